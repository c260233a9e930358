// aws-chunked bodies (`Content-Encoding: aws-chunked`), decoded as the bytes arrive.
//
// Grammar (AWS "Transferring payload in multiple chunks" and "Including trailing headers"):
//   body     = *chunk last-chunk trailers CRLF
//   chunk    = hex-size [ ";chunk-signature=" 64HEXDIG ] CRLF data CRLF
//   last     = "0" [ ";chunk-signature=" 64HEXDIG ] CRLF
//   trailers = *( name ":" value CRLF ) [ "x-amz-trailer-signature:" 64HEXDIG CRLF ]
// Example, STREAMING-UNSIGNED-PAYLOAD-TRAILER (node-PutObjectCommand-stream.json):
//   "400\r\n" <1024 bytes> "\r\n0\r\nx-amz-checksum-crc32:e+Tf0A==\r\n\r\n"
//
// Signed modes (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) chain one signature per chunk,
// seeded with the request's own signature, under the request's signing key:
//   chunk   = HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous "\n"
//                       hex(sha256("")) "\n" hex(sha256(chunk data)))
//   trailer = HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" previous "\n"
//                       hex(sha256(for each trailer: lower(name) ":" value "\n")))
// where the trailer's `previous` is the final (zero-length) chunk's signature.
//
// Memory is bounded whatever the input: chunk data is handed on as it arrives and hashed
// incrementally (never buffered), and only a chunk header or trailer line is held, up to a
// fixed length. Data of a chunk whose signature later fails has already been passed to `out`:
// the caller must not commit anything before Finish() succeeds.

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "sluice/auth/auth.h"
#include "sluice/auth/auth_internal.h"

namespace sluice::auth {

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own helpers

namespace {

// "<16 hex digits>;chunk-signature=<64 hex>" is 97 bytes; the rest is room for extensions a
// client might add, not for payload.
constexpr size_t kMaxChunkLineBytes = 256;
// "x-amz-checksum-sha256:<44 base64>" is 66 bytes; the signature line 88.
constexpr size_t kMaxTrailerLineBytes = 1024;
// S3 accepts one checksum trailer; a few more are tolerated, not an unbounded list.
constexpr size_t kMaxTrailers = 16;
// A chunk size is at most 16 hex digits (a uint64).
constexpr size_t kMaxSizeDigits = 16;
constexpr size_t kSignatureHexLength = 64;
constexpr std::string_view kChunkSignature = "chunk-signature=";
constexpr std::string_view kTrailerSignature = "x-amz-trailer-signature";

class Decoder final : public ChunkedDecoder {
 public:
  Decoder(PayloadMode mode, std::string key, std::string seed, std::string amz_date,
          std::string scope)
      : mode_(mode),
        signed_(mode == PayloadMode::kStreamingSigned ||
                mode == PayloadMode::kStreamingSignedTrailer),
        key_(std::move(key)),
        previous_(std::move(seed)),
        amz_date_(std::move(amz_date)),
        scope_(std::move(scope)) {
    if (signed_) {
      chunk_sha_ = EVP_MD_CTX_new();
      trailer_sha_ = EVP_MD_CTX_new();
      // Allocation or initialisation failure of a built-in digest is not a client-input
      // error; the process cannot hash at all.
      if (chunk_sha_ == nullptr || trailer_sha_ == nullptr ||
          EVP_DigestInit_ex(trailer_sha_, EVP_sha256(), nullptr) != 1) {
        std::abort();
      }
    }
    line_.reserve(kMaxChunkLineBytes);
  }

  ~Decoder() override {
    if (chunk_sha_ != nullptr) EVP_MD_CTX_free(chunk_sha_);
    if (trailer_sha_ != nullptr) EVP_MD_CTX_free(trailer_sha_);
    OPENSSL_cleanse(key_.data(), key_.size());
  }

  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  Status Feed(ByteView in, const std::function<Status(ByteView)>& out) override {
    if (!error_.ok()) return error_;
    while (!in.empty()) {
      Status st = Step(&in, out);
      if (!st.ok()) {
        error_ = st;
        return st;
      }
    }
    return Status::Ok();
  }

  Status Finish() override {
    if (!error_.ok()) return error_;
    if (state_ == State::kDone) return Status::Ok();
    const char* where = "";
    switch (state_) {
      case State::kChunkLine:
        where = line_.empty() ? "before a chunk header" : "inside a chunk header";
        break;
      case State::kData:
        where = "inside chunk data";
        break;
      case State::kDataCr:
      case State::kDataLf:
        where = "before the CRLF that ends a chunk";
        break;
      case State::kTrailerLine:
        where = "inside the trailer (no final empty line)";
        break;
      case State::kDone:
        break;
    }
    error_ =
        Status(ErrorCode::kIncompleteBody, std::string("the aws-chunked body ended ") + where +
                                               " after " + std::to_string(offset_) + " bytes (" +
                                               std::to_string(decoded_) + " bytes of payload)");
    return error_;
  }

  const Headers& trailers() const override { return trailers_; }
  uint64_t decoded_length() const override { return decoded_; }

 private:
  enum class State { kChunkLine, kData, kDataCr, kDataLf, kTrailerLine, kDone };

  Status Framing(const std::string& why) const {
    return Status(ErrorCode::kInvalidRequest,
                  "malformed aws-chunked body at byte " + std::to_string(offset_) + ": " + why);
  }

  // Consumes a prefix of *in: one line, part of one, or part of a chunk's data.
  Status Step(ByteView* in, const std::function<Status(ByteView)>& out) {
    switch (state_) {
      case State::kChunkLine:
      case State::kTrailerLine: {
        const size_t limit =
            state_ == State::kChunkLine ? kMaxChunkLineBytes : kMaxTrailerLineBytes;
        const void* nl = std::memchr(in->data(), '\n', in->size());
        const size_t take =
            nl == nullptr ? in->size() : static_cast<const uint8_t*>(nl) - in->data() + 1;
        if (line_.size() + take > limit + 2) {
          return Framing(std::string(state_ == State::kChunkLine ? "chunk header" : "trailer") +
                         " line longer than " + std::to_string(limit) + " bytes");
        }
        line_.append(reinterpret_cast<const char*>(in->data()), take);
        *in = in->subspan(take);
        offset_ += take;
        if (nl == nullptr) return Status::Ok();
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
          return Framing("line not terminated by CRLF");
        }
        line_.resize(line_.size() - 2);
        Status st = state_ == State::kChunkLine ? ChunkLine() : TrailerLine();
        line_.clear();
        return st;
      }
      case State::kData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in->size()));
        const ByteView piece = in->first(take);
        *in = in->subspan(take);
        offset_ += take;
        remaining_ -= take;
        decoded_ += take;
        if (signed_ && EVP_DigestUpdate(chunk_sha_, piece.data(), piece.size()) != 1) std::abort();
        SLUICE_RETURN_IF_ERROR(out(piece));
        if (remaining_ == 0) {
          state_ = State::kDataCr;
          if (signed_) SLUICE_RETURN_IF_ERROR(CheckChunkSignature());
        }
        return Status::Ok();
      }
      case State::kDataCr:
      case State::kDataLf: {
        const char want = state_ == State::kDataCr ? '\r' : '\n';
        if (static_cast<char>((*in)[0]) != want) {
          return Framing("chunk data not followed by CRLF (chunk longer than its size?)");
        }
        *in = in->subspan(1);
        ++offset_;
        state_ = state_ == State::kDataCr ? State::kDataLf : State::kChunkLine;
        return Status::Ok();
      }
      case State::kDone:
        return Framing(std::to_string(in->size()) + " bytes after the end of the body");
    }
    return Status::Ok();
  }

  // `line_` holds a chunk header without its CRLF.
  Status ChunkLine() {
    const std::string_view line = line_;
    const size_t semi = line.find(';');
    const std::string_view hex = line.substr(0, semi);
    if (hex.empty() || hex.size() > kMaxSizeDigits || !IsHexString(hex)) {
      return Framing("chunk size '" + std::string(hex.substr(0, 20)) + "' is not hex");
    }
    uint64_t size = 0;
    for (char c : hex) size = size * 16 + static_cast<uint64_t>(HexDigitValue(c));
    if (size > UINT64_MAX - decoded_) return Framing("chunk sizes overflow 64 bits");
    const std::string_view ext =
        semi == std::string_view::npos ? std::string_view() : line.substr(semi + 1);
    if (signed_) {
      if (!ext.starts_with(kChunkSignature) ||
          ext.size() != kChunkSignature.size() + kSignatureHexLength ||
          !IsHexString(ext.substr(kChunkSignature.size()))) {
        return Framing("a signed chunk header must be <hex size>;chunk-signature=<64 hex>");
      }
      sent_signature_ = AsciiLowered(ext.substr(kChunkSignature.size()));
      if (EVP_DigestInit_ex(chunk_sha_, EVP_sha256(), nullptr) != 1) std::abort();
    }
    // Unsigned modes: S3 sends no extensions; any present are ignored.
    ++chunks_;
    if (size == 0) {
      if (signed_) SLUICE_RETURN_IF_ERROR(CheckChunkSignature());
      state_ = State::kTrailerLine;
      return Status::Ok();
    }
    remaining_ = size;
    state_ = State::kData;
    return Status::Ok();
  }

  // The signature of one link of the chain: `algorithm`, date, scope, the previous
  // signature, then `hashes` (for a chunk: SHA-256 of "" and of its data; for the trailer: of
  // its lines), signed with the request's signing key.
  std::string ChainedSignature(std::string_view algorithm, EVP_MD_CTX* sha,
                               std::string_view prefix_hashes) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(sha, digest, &len) != 1) std::abort();
    std::string sts(algorithm);
    sts += '\n';
    sts += amz_date_;
    sts += '\n';
    sts += scope_;
    sts += '\n';
    sts += previous_;
    sts += '\n';
    sts += prefix_hashes;
    sts += ToHex(ByteView(digest, len));
    return HmacSha256Hex(key_, sts);
  }

  Status CheckChunkSignature() {
    std::string expected =
        ChainedSignature("AWS4-HMAC-SHA256-PAYLOAD", chunk_sha_, std::string(kEmptySha256) + "\n");
    if (!ConstantTimeEquals(expected, sent_signature_)) {
      return Status(ErrorCode::kSignatureDoesNotMatch,
                    "the signature of aws-chunked chunk " + std::to_string(chunks_) +
                        " (ending at byte " + std::to_string(offset_) +
                        ") does not match the chunk's data");
    }
    previous_ = std::move(expected);
    return Status::Ok();
  }

  // `line_` holds a trailer line without its CRLF; empty ends the body.
  Status TrailerLine() {
    const std::string_view line = line_;
    if (line.empty()) {
      if (mode_ == PayloadMode::kStreamingSignedTrailer && !trailer_signed_) {
        return Framing("the trailer has no x-amz-trailer-signature");
      }
      state_ = State::kDone;
      return Status::Ok();
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Framing("trailer line without 'name:'");
    }
    const std::string_view raw_name = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 1);
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return Framing("control character in a trailer line");
      }
    }
    for (char c : raw_name) {
      if (c == ' ' || c == '\t') return Framing("whitespace in a trailer name");
    }
    std::string name = AsciiLowered(raw_name);
    if (name == kTrailerSignature) {
      if (mode_ != PayloadMode::kStreamingSignedTrailer) {
        return Framing("x-amz-trailer-signature in a stream whose trailer is not signed");
      }
      if (trailer_signed_) return Framing("x-amz-trailer-signature given twice");
      const std::string_view sent = TrimAscii(value);
      if (sent.size() != kSignatureHexLength || !IsHexString(sent)) {
        return Framing("x-amz-trailer-signature must be 64 hex digits");
      }
      return CheckTrailerSignature(AsciiLowered(sent));
    }
    if (mode_ == PayloadMode::kStreamingSigned) {
      return Framing("trailer '" + name.substr(0, 64) +
                     "' in a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, which has no trailer");
    }
    if (trailer_signed_) return Framing("trailer after x-amz-trailer-signature");
    if (trailers_.size() == kMaxTrailers) {
      return Framing("more than " + std::to_string(kMaxTrailers) + " trailers");
    }
    if (signed_) {
      // Signed as sent: lower-case name, ':', the value untrimmed, '\n'.
      const std::string signed_line = name + ":" + std::string(value) + "\n";
      if (EVP_DigestUpdate(trailer_sha_, signed_line.data(), signed_line.size()) != 1) {
        std::abort();
      }
    }
    trailers_.emplace_back(std::move(name), std::string(TrimAscii(value)));
    return Status::Ok();
  }

  Status CheckTrailerSignature(const std::string& sent) {
    if (!ConstantTimeEquals(ChainedSignature("AWS4-HMAC-SHA256-TRAILER", trailer_sha_, ""), sent)) {
      return Status(ErrorCode::kSignatureDoesNotMatch,
                    "the aws-chunked trailer signature does not match the trailers sent");
    }
    trailer_signed_ = true;
    return Status::Ok();
  }

  const PayloadMode mode_;
  const bool signed_;
  std::string key_;       // signing key (raw), signed modes only
  std::string previous_;  // hex signature of the previous chunk (the seed at first)
  const std::string amz_date_;
  const std::string scope_;
  EVP_MD_CTX* chunk_sha_ = nullptr;    // the current chunk's data
  EVP_MD_CTX* trailer_sha_ = nullptr;  // the trailer lines signed so far

  State state_ = State::kChunkLine;
  std::string line_;  // the line being read, at most its limit + CRLF
  std::string sent_signature_;
  uint64_t remaining_ = 0;  // data bytes left in the current chunk
  uint64_t decoded_ = 0;
  uint64_t offset_ = 0;  // bytes of the encoded body consumed
  uint64_t chunks_ = 0;  // chunk headers read, the final one included (1-based in messages)
  bool trailer_signed_ = false;
  Headers trailers_;
  Status error_;
};

}  // namespace

Result<std::unique_ptr<ChunkedDecoder>> MakeChunkedDecoder(const ParsedAuth& parsed,
                                                           const Secret& secret) {
  switch (parsed.payload_mode) {
    case PayloadMode::kStreamingUnsignedTrailer:
      return std::unique_ptr<ChunkedDecoder>(
          std::make_unique<Decoder>(parsed.payload_mode, "", "", "", ""));
    case PayloadMode::kStreamingSigned:
    case PayloadMode::kStreamingSignedTrailer:
      if (parsed.signature.size() != kSignatureHexLength || !IsHexString(parsed.signature)) {
        return Status(ErrorCode::kInvalidArgument,
                      "a signed aws-chunked body needs the request's SigV4 signature as its seed");
      }
      return std::unique_ptr<ChunkedDecoder>(std::make_unique<Decoder>(
          parsed.payload_mode, SigningKey(secret, parsed), AsciiLowered(parsed.signature),
          parsed.amz_date, Scope(parsed)));
    case PayloadMode::kSignedHex:
    case PayloadMode::kUnsigned:
      break;
  }
  return Status(ErrorCode::kInvalidArgument,
                "x-amz-content-sha256 '" + parsed.payload_hash.substr(0, 64) +
                    "' is not an aws-chunked (STREAMING-*) payload mode");
}

}  // namespace sluice::auth
