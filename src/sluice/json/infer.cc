#include "sluice/json/convert_internal.h"
#include "sluice/json/infer_internal.h"
#include "sluice/json/limits_internal.h"

namespace sluice::json {

using batch::DataType;
using batch::Field;
using batch::TypeId;

// What was seen at one path.
enum Seen : uint32_t {
  kSeenNull = 1u << 0,
  kSeenBool = 1u << 1,
  kSeenInt = 1u << 2,     // fits int64
  kSeenBigInt = 1u << 3,  // beyond int64, at most 38 digits
  kSeenHuge = 1u << 4,    // more than 38 digits
  kSeenFloat = 1u << 5,   // fraction or exponent
  kSeenText = 1u << 6,    // a string that is no date or timestamp
  kSeenDate = 1u << 7,
  kSeenTs = 1u << 8,   // timestamp without a zone
  kSeenTsz = 1u << 9,  // timestamp with a zone
  kSeenObject = 1u << 10,
  kSeenArray = 1u << 11,
};
constexpr uint32_t kNumbers = kSeenInt | kSeenBigInt | kSeenHuge | kSeenFloat;
constexpr uint32_t kStrings = kSeenText | kSeenDate | kSeenTs | kSeenTsz;

struct Inferrer::Node {
  uint32_t seen = 0;
  int fraction_digits = 0;  // most seen in a timestamp
  std::vector<std::string> names;
  std::vector<std::unique_ptr<Node>> fields;
  std::unordered_map<std::string, size_t> index;
  std::unique_ptr<Node> element;
  int64_t* paths = nullptr;  // nodes in the whole tree (the root's counter)

  explicit Node(int64_t* counter) : paths(counter) { ++*paths; }

  Node* Field(std::string_view name) {
    auto it = index.find(std::string(name));
    if (it != index.end()) return fields[it->second].get();
    index.emplace(std::string(name), fields.size());
    names.emplace_back(name);
    fields.push_back(std::make_unique<Node>(paths));
    return fields.back().get();
  }
};

namespace {

using Node = Inferrer::Node;

Status ObserveValue(od::value v, Node* node, const PathStep* path);

Status ObserveObject(od::object obj, Node* node, const PathStep* path) {
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Malformed(e, path);
    const PathStep step{path, key};
    od::value v;
    if (auto e = field.value().get(v)) return Malformed(e, &step);
    Node* child = node->Field(key);
    if (*node->paths > kMaxInferredFields) {
      return Err(ErrorCode::kLimitExceeded, "more than " + std::to_string(kMaxInferredFields) +
                                                " distinct fields (at '" + RenderPath(&step) +
                                                "')");
    }
    SLUICE_RETURN_IF_ERROR(ObserveValue(v, child, &step));
  }
  return Status::Ok();
}

Status ObserveValue(od::value v, Node* node, const PathStep* path) {
  od::json_type t;
  if (auto e = v.type().get(t)) return Malformed(e, path);
  switch (t) {
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null); e || !is_null) {
        return Malformed(e ? e : simdjson::N_ATOM_ERROR, path);
      }
      node->seen |= kSeenNull;
      return Status::Ok();
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return Malformed(e, path);
      node->seen |= kSeenBool;
      return Status::Ok();
    }
    case od::json_type::number: {
      // simdjson keeps the whitespace after a token.
      const std::string_view raw = TrimAscii(v.raw_json_token());
      // Validate the number as simdjson reads it (a float always parses as a double).
      double d;
      if (auto e = v.get_double().get(d)) return Malformed(e, path);
      if (raw.find_first_of(".eE") != std::string_view::npos) {
        node->seen |= kSeenFloat;
      } else if (ParseInt64(raw)) {
        node->seen |= kSeenInt;
      } else {
        const auto c = ClassifyInteger(raw);
        node->seen |= c && c->digits <= 38 ? kSeenBigInt : kSeenHuge;
      }
      return Status::Ok();
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return Malformed(e, path);
      if (s.size() >= 10 && s[4] == '-') {
        if (const auto ts = ParseTimestamp(s)) {
          if (ts->date_only) {
            node->seen |= kSeenDate;
          } else {
            node->seen |= ts->has_zone ? kSeenTsz : kSeenTs;
            node->fraction_digits = std::max(node->fraction_digits, ts->fraction_digits);
          }
          return Status::Ok();
        }
      }
      node->seen |= kSeenText;
      return Status::Ok();
    }
    case od::json_type::array: {
      od::array arr;
      if (auto e = v.get_array().get(arr)) return Malformed(e, path);
      node->seen |= kSeenArray;
      if (!node->element) node->element = std::make_unique<Node>(node->paths);
      int64_t i = 0;
      for (auto item : arr) {
        const PathStep step{path, {}, i++};
        od::value ev;
        if (auto e = item.get(ev)) return Malformed(e, &step);
        SLUICE_RETURN_IF_ERROR(ObserveValue(ev, node->element.get(), &step));
      }
      return Status::Ok();
    }
    case od::json_type::object: {
      od::object obj;
      if (auto e = v.get_object().get(obj)) return Malformed(e, path);
      node->seen |= kSeenObject;
      return ObserveObject(obj, node, path);
    }
  }
  return Status::Ok();
}

const Field* FindField(const std::vector<Field>* fields, const std::string& name) {
  if (!fields) return nullptr;
  for (const Field& f : *fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

DataType TypeOf(const Node& node, const DataType* target);

std::vector<Field> FieldsOf(const Node& node, const std::vector<Field>* target) {
  std::vector<Field> out;
  out.reserve(node.fields.size());
  for (size_t i = 0; i < node.fields.size(); ++i) {
    const Field* t = FindField(target, node.names[i]);
    out.push_back(Field{node.names[i], TypeOf(*node.fields[i], t ? &t->type : nullptr)});
  }
  return out;
}

DataType TypeOf(const Node& node, const DataType* target) {
  if (target) {
    // The target decides; a struct keeps its fields and gains the ones only the data has.
    if (target->id == TypeId::kStruct && (node.seen & kSeenObject)) {
      std::vector<Field> fields = target->children;
      for (Field& f : FieldsOf(node, &target->children)) {
        if (!FindField(&target->children, f.name)) fields.push_back(std::move(f));
      }
      return DataType::Struct(std::move(fields));
    }
    if (target->id == TypeId::kList && node.element && !target->children.empty()) {
      const Field& el = target->children[0];
      return DataType::List(Field{el.name, TypeOf(*node.element, &el.type), el.nullable});
    }
    return *target;
  }
  const uint32_t seen = node.seen & ~kSeenNull;
  if (seen == 0) return DataType(TypeId::kNull);
  if (seen == kSeenObject) return DataType::Struct(FieldsOf(node, nullptr));
  if (seen == kSeenArray) {
    return DataType::List(Field{"element", TypeOf(*node.element, nullptr)});
  }
  if (seen == kSeenBool) return DataType(TypeId::kBool);
  if ((seen & ~kNumbers) == 0) {
    if (seen & kSeenFloat) return DataType(TypeId::kDouble);
    if (seen & kSeenHuge) return DataType(TypeId::kString);
    if (seen & kSeenBigInt) return DataType::Decimal(38, 0);
    return DataType(TypeId::kInt64);
  }
  if ((seen & ~kStrings) == 0 && !(seen & kSeenText)) {
    const batch::TimeUnit unit =
        node.fraction_digits > 6 ? batch::TimeUnit::kNanos : batch::TimeUnit::kMicros;
    if (seen == kSeenDate) return DataType(TypeId::kDate);
    if ((seen & kSeenTsz) == 0) return DataType::Timestamp(unit, false);
    if ((seen & (kSeenTs | kSeenDate)) == 0) return DataType::Timestamp(unit, true);
  }
  return DataType(TypeId::kString);
}

}  // namespace

Inferrer::Inferrer(const batch::Schema* target)
    : root_(std::make_unique<Node>(&paths_)), target_(target) {}
Inferrer::~Inferrer() = default;

Status Inferrer::Observe(od::object record) {
  root_->seen |= kSeenObject;
  return ObserveObject(record, root_.get(), nullptr);
}

batch::Schema Inferrer::Finish() const {
  return batch::Schema{FieldsOf(*root_, target_ ? &target_->fields : nullptr)};
}

}  // namespace sluice::json
