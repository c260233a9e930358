#include <expat.h>

#include <charconv>
#include <memory>
#include <utility>

#include "sluice/core/text.h"
#include "sluice/s3/multipart_checksum.h"
#include "sluice/s3/multipart_xml_internal.h"

namespace sluice::s3 {
namespace {

// Both documents are three levels deep; anything deeper is ignored content, but bounded.
constexpr int kMaxDepth = 16;
// Element count bound: a Part has at most a handful of children; 16 per part is generous.
constexpr size_t kMaxElements = 16 * kMaxParts + 64;

struct Node {
  std::string name;  // local name: any namespace prefix removed
  std::string text;  // character data directly inside
  std::vector<std::unique_ptr<Node>> children;
};

struct ParseState {
  XML_Parser parser = nullptr;
  Node root;  // a synthetic parent of the document element
  std::vector<Node*> stack;
  size_t elements = 0;
  std::string error;  // set when a handler stopped the parser
};

void Stop(ParseState* s, std::string error) {
  if (s->error.empty()) s->error = std::move(error);
  XML_StopParser(s->parser, XML_FALSE);
}

void XMLCALL OnStart(void* data, const XML_Char* name, const XML_Char** /*attrs*/) {
  auto* s = static_cast<ParseState*>(data);
  if (!s->error.empty()) return;
  if (s->stack.size() > kMaxDepth) return Stop(s, "elements nested too deeply");
  if (++s->elements > kMaxElements) return Stop(s, "too many elements");
  std::string_view local(name);
  if (const size_t colon = local.rfind(':'); colon != std::string_view::npos) {
    local.remove_prefix(colon + 1);
  }
  auto node = std::make_unique<Node>();
  node->name = std::string(local);
  Node* raw = node.get();
  s->stack.back()->children.push_back(std::move(node));
  s->stack.push_back(raw);
}

void XMLCALL OnEnd(void* data, const XML_Char* /*name*/) {
  auto* s = static_cast<ParseState*>(data);
  if (s->stack.size() > 1) s->stack.pop_back();
}

void XMLCALL OnText(void* data, const XML_Char* text, int len) {
  auto* s = static_cast<ParseState*>(data);
  if (s->stack.size() > 1) s->stack.back()->text.append(text, static_cast<size_t>(len));
}

void XMLCALL OnDoctype(void* data, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                       const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
  Stop(static_cast<ParseState*>(data), "a DOCTYPE is not allowed");
}

struct ParserDeleter {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

// Parses `xml` into a tree and returns the document element, checked to be named `root`.
Status ParseTree(std::string_view xml, std::string_view root, size_t max_bytes, ParseState* state,
                 const Node** doc) {
  const std::string what(root);
  if (xml.size() > max_bytes) {
    return Status(ErrorCode::kMalformedXml, "the " + what + " body is " +
                                                std::to_string(xml.size()) + " bytes, over the " +
                                                std::to_string(max_bytes) + " allowed");
  }
  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(XML_ParserCreate(nullptr));
  if (!parser) return Status(ErrorCode::kInternal, "cannot create an XML parser");
  state->parser = parser.get();
  state->stack = {&state->root};
  XML_SetUserData(parser.get(), state);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
  const XML_Status st = XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE);
  if (st != XML_STATUS_OK || !state->error.empty()) {
    const std::string why =
        !state->error.empty() ? state->error : XML_ErrorString(XML_GetErrorCode(parser.get()));
    return Status(ErrorCode::kMalformedXml,
                  "the " + what + " body is not well-formed XML: " + why + " at line " +
                      std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
                      std::to_string(XML_GetCurrentColumnNumber(parser.get())));
  }
  if (state->root.children.size() != 1 || state->root.children[0]->name != root) {
    return Status(
        ErrorCode::kMalformedXml,
        "the body's root element must be <" + what + ">" +
            (state->root.children.empty() ? std::string()
                                          : ", not <" + state->root.children[0]->name + ">"));
  }
  *doc = state->root.children[0].get();
  return Status::Ok();
}

// The single child named `name`; kMalformedXml when missing or repeated.
Result<const Node*> OnlyChild(const Node& parent, std::string_view name, const std::string& where) {
  const Node* found = nullptr;
  for (const auto& c : parent.children) {
    if (c->name != name) continue;
    if (found != nullptr) {
      return Status(ErrorCode::kMalformedXml,
                    where + " has more than one <" + std::string(name) + ">");
    }
    found = c.get();
  }
  if (found == nullptr) {
    return Status(ErrorCode::kMalformedXml, where + " has no <" + std::string(name) + ">");
  }
  return found;
}

// A Part's <ChecksumCRC32> (or CRC32C, CRC64NVME, SHA1, SHA256), at most one: the algorithm
// lower-cased as in the header name, the value trimmed. Compared with the part's recorded
// checksum by the backend (multipart_checksum.h); other Checksum* elements are unknown ones.
Status ReadPartChecksum(const Node& part, const std::string& where, Checksum* out) {
  constexpr std::string_view kPrefix = "Checksum";
  for (const auto& c : part.children) {
    if (!c->name.starts_with(kPrefix)) continue;
    const std::string algorithm = AsciiLowered(std::string_view(c->name).substr(kPrefix.size()));
    if (!IsChecksumAlgorithm(algorithm)) continue;
    if (!out->algorithm.empty()) {
      return Status(ErrorCode::kMalformedXml, where + " has more than one checksum (<Checksum" +
                                                  ChecksumAlgorithmName(out->algorithm) +
                                                  "> and <" + c->name + ">)");
    }
    out->algorithm = algorithm;
    out->value = std::string(TrimAscii(c->text));
    if (out->value.empty()) {
      return Status(ErrorCode::kMalformedXml, where + " has an empty <" + c->name + ">");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<CompletedPart>> ParseCompleteMultipartUpload(std::string_view xml) {
  ParseState state;
  const Node* doc = nullptr;
  SLUICE_RETURN_IF_ERROR(
      ParseTree(xml, "CompleteMultipartUpload", kMaxCompleteXmlBytes, &state, &doc));
  std::vector<CompletedPart> parts;
  for (const auto& child : doc->children) {
    if (child->name != "Part") continue;
    if (parts.size() == static_cast<size_t>(kMaxParts)) {
      return Status(ErrorCode::kMalformedXml,
                    "more than " + std::to_string(kMaxParts) + " parts are listed");
    }
    const std::string where = "Part " + std::to_string(parts.size() + 1);
    SLUICE_ASSIGN_OR_RETURN(const Node* number, OnlyChild(*child, "PartNumber", where));
    SLUICE_ASSIGN_OR_RETURN(const Node* etag, OnlyChild(*child, "ETag", where));
    const std::string_view digits = TrimAscii(number->text);
    CompletedPart part;
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), part.part_number);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return Status(ErrorCode::kMalformedXml,
                    where + ": PartNumber '" + std::string(digits) + "' is not an integer");
    }
    if (part.part_number < 1 || part.part_number > kMaxParts) {
      return Status(ErrorCode::kInvalidArgument,
                    where + ": part number " + std::to_string(part.part_number) +
                        " is not between 1 and " + std::to_string(kMaxParts));
    }
    std::string_view value = TrimAscii(etag->text);
    // Quotes arrive literal, or entity-escaped (&quot; / &#34;), which expat has decoded.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (value.empty()) return Status(ErrorCode::kMalformedXml, where + " has an empty ETag");
    part.etag = std::string(value);
    SLUICE_RETURN_IF_ERROR(ReadPartChecksum(*child, where, &part.checksum));
    parts.push_back(std::move(part));
  }
  if (parts.empty()) {
    return Status(ErrorCode::kMalformedXml,
                  "the CompleteMultipartUpload body lists no parts; at least one is required");
  }
  return parts;
}

Result<DeleteRequest> ParseDeleteObjects(std::string_view xml) {
  ParseState state;
  const Node* doc = nullptr;
  SLUICE_RETURN_IF_ERROR(ParseTree(xml, "Delete", kMaxDeleteXmlBytes, &state, &doc));
  DeleteRequest out;
  for (const auto& child : doc->children) {
    if (child->name == "Quiet") {
      const std::string_view v = TrimAscii(child->text);
      if (v != "true" && v != "false") {
        return Status(ErrorCode::kMalformedXml,
                      "Quiet must be true or false, not '" + std::string(v) + "'");
      }
      out.quiet = v == "true";
      continue;
    }
    if (child->name != "Object") continue;
    if (out.keys.size() == kMaxDeleteKeys) {
      return Status(ErrorCode::kMalformedXml,
                    "more than " + std::to_string(kMaxDeleteKeys) + " keys are listed");
    }
    const std::string where = "Object " + std::to_string(out.keys.size() + 1);
    SLUICE_ASSIGN_OR_RETURN(const Node* key, OnlyChild(*child, "Key", where));
    out.keys.push_back(key->text);  // keys are exact: no trimming
    std::optional<std::string> version;
    for (const auto& c : child->children) {
      if (c->name != "VersionId") continue;
      if (version) {
        return Status(ErrorCode::kMalformedXml, where + " has more than one <VersionId>");
      }
      version = c->text;
    }
    out.version_ids.push_back(std::move(version));
  }
  if (out.keys.empty()) {
    return Status(ErrorCode::kMalformedXml, "the Delete body lists no objects");
  }
  return out;
}

Result<VersioningRequest> ParseVersioningConfiguration(std::string_view xml) {
  ParseState state;
  const Node* doc = nullptr;
  SLUICE_RETURN_IF_ERROR(
      ParseTree(xml, "VersioningConfiguration", kMaxVersioningXmlBytes, &state, &doc));
  VersioningRequest out;
  for (const auto& child : doc->children) {
    std::string* field = child->name == "Status"      ? &out.status
                         : child->name == "MfaDelete" ? &out.mfa_delete
                                                      : nullptr;
    if (field == nullptr) continue;
    if (!field->empty()) {
      return Status(ErrorCode::kMalformedXml,
                    "the VersioningConfiguration has more than one <" + child->name + ">");
    }
    *field = std::string(TrimAscii(child->text));
  }
  return out;
}

}  // namespace sluice::s3
