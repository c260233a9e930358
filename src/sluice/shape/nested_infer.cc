// InferRecordSchema (nested.h): the type of an example record. A SAX pass (nlohmann) so that
// an integer too large for 64 bits is seen as written, not as the double a DOM would make.
#include <limits>
#include <nlohmann/json.hpp>

#include "sluice/shape/nested.h"

namespace sluice::shape {
namespace {

using batch::DataType;
using batch::Field;
using batch::TimeUnit;
using batch::TypeId;

// An example is pasted by a person; deeper nesting than this is a mistake or an attack.
constexpr size_t kMaxExampleDepth = 64;
// Decimal digits a DECIMAL(38,0) holds.
constexpr size_t kMaxDecimalDigits = 38;

bool Digits(std::string_view s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// ISO-8601: "YYYY-MM-DD" is a DATE; "YYYY-MM-DD[T ]HH:MM[:SS[.f...]][Z|+HH[:MM]|-HH[:MM]]" a
// TIMESTAMP (WITH TIME ZONE when a zone is given). Anything else stays VARCHAR.
DataType StringType(std::string_view s) {
  DataType text(TypeId::kString);  // not const: returned by move
  if (!(Digits(s, 0, 4) && s.size() >= 10 && s[4] == '-' && Digits(s, 5, 2) && s[7] == '-' &&
        Digits(s, 8, 2))) {
    return text;
  }
  if (s.size() == 10) return DataType(TypeId::kDate);
  if (!(s[10] == 'T' || s[10] == ' ') || !Digits(s, 11, 2) || s.size() < 16 || s[13] != ':' ||
      !Digits(s, 14, 2)) {
    return text;
  }
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!Digits(s, i + 1, 2)) return text;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      ++i;
      const size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == start) return text;
    }
  }
  if (i == s.size()) return DataType::Timestamp(TimeUnit::kMicros, false);
  if (s[i] == 'Z' && i + 1 == s.size()) return DataType::Timestamp(TimeUnit::kMicros, true);
  if ((s[i] == '+' || s[i] == '-') && Digits(s, i + 1, 2)) {
    const std::string_view rest = s.substr(i + 3);
    if (rest.empty() || (rest.size() == 3 && rest[0] == ':' && Digits(rest, 1, 2)) ||
        (rest.size() == 2 && Digits(rest, 0, 2))) {
      return DataType::Timestamp(TimeUnit::kMicros, true);
    }
  }
  return text;
}

// 0 BIGINT, 1 UBIGINT, 2 DECIMAL(38,0), 3 DOUBLE; -1 not a number.
int NumericRank(const DataType& t) {
  switch (t.id) {
    case TypeId::kInt64:
      return 0;
    case TypeId::kUInt64:
      return 1;
    case TypeId::kDecimal:
      return 2;
    case TypeId::kDouble:
      return 3;
    default:
      return -1;
  }
}

Result<DataType> Merge(const DataType& a, const DataType& b, const std::string& path) {
  if (a.id == TypeId::kNull) return b;
  if (b.id == TypeId::kNull) return a;
  if (a.id == TypeId::kStruct && b.id == TypeId::kStruct) {
    DataType out = a;
    for (const Field& f : b.children) {
      bool found = false;
      for (Field& g : out.children) {
        if (g.name != f.name) continue;
        SLUICE_ASSIGN_OR_RETURN(g.type, Merge(g.type, f.type, path + "." + f.name));
        found = true;
        break;
      }
      if (!found) out.children.push_back(f);
    }
    return out;
  }
  if (a.id == TypeId::kList && b.id == TypeId::kList) {
    if (a.children.empty()) return b;  // an empty array says nothing about its elements
    if (b.children.empty()) return a;
    SLUICE_ASSIGN_OR_RETURN(DataType element, Merge(a.children[0].type, b.children[0].type, path));
    return DataType::List(Field{"element", std::move(element)});
  }
  const int ra = NumericRank(a);
  const int rb = NumericRank(b);
  if (ra >= 0 && rb >= 0) {
    // A negative BIGINT and a UBIGINT beyond 2^63 fit only a DECIMAL(38,0).
    if ((ra == 0 && rb == 1) || (ra == 1 && rb == 0)) return DataType::Decimal(38, 0);
    return ra >= rb ? a : b;
  }
  if (a == b) return a;
  const bool ta = a.id == TypeId::kDate || a.id == TypeId::kTimestamp;
  const bool tb = b.id == TypeId::kDate || b.id == TypeId::kTimestamp;
  if (ta && tb) {
    if (a.id == TypeId::kDate) return b;
    if (b.id == TypeId::kDate) return a;
    return DataType(TypeId::kString);  // with and without a zone: keep the text
  }
  if ((ta || a.id == TypeId::kString) && (tb || b.id == TypeId::kString)) {
    return DataType(TypeId::kString);
  }
  return Err(ErrorCode::kInvalidArgument, "example record: " + path +
                                              ": values of incompatible types " +
                                              batch::TypeName(a) + " and " + batch::TypeName(b));
}

// Nulls become VARCHAR; an array never seen with an element cannot be typed.
Status Finish(DataType* t, const std::string& path) {
  if (t->id == TypeId::kNull) {
    *t = DataType(TypeId::kString);
  } else if (t->id == TypeId::kList) {
    if (t->children.empty()) {
      return Err(ErrorCode::kInvalidArgument,
                 "example record: " + path +
                     ": the array is empty, so its elements have no type; give an example "
                     "with at least one element");
    }
    return Finish(&t->children[0].type, path);
  } else if (t->id == TypeId::kStruct) {
    for (Field& f : t->children) SLUICE_RETURN_IF_ERROR(Finish(&f.type, path + "." + f.name));
  }
  return Status::Ok();
}

class Inferrer : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return Deliver(DataType(TypeId::kNull)); }
  bool boolean(bool /*unused*/) override { return Deliver(DataType(TypeId::kBool)); }
  bool number_integer(number_integer_t /*unused*/) override {
    return Deliver(DataType(TypeId::kInt64));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return Deliver(DataType(v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                                ? TypeId::kUInt64
                                : TypeId::kInt64));
  }
  bool number_float(number_float_t /*unused*/, const string_t& text) override {
    // nlohmann hands integers beyond 64 bits to number_float; the text tells them apart.
    if (text.find_first_of(".eE") == std::string::npos) {
      const size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
      if (digits <= kMaxDecimalDigits) return Deliver(DataType::Decimal(38, 0));
    }
    return Deliver(DataType(TypeId::kDouble));
  }
  bool string(string_t& s) override { return Deliver(StringType(s)); }
  bool binary(binary_t& /*unused*/) override { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t /*unused*/) override {
    return Push(Frame{true, DataType::Struct({}), "", ElementPath()});
  }
  bool key(string_t& k) override {
    stack_.back().key = k;
    return true;
  }
  bool end_object() override { return Pop(); }
  bool start_array(std::size_t /*unused*/) override {
    if (stack_.empty()) return Fail("the example record must be a JSON object, not an array");
    return Push(Frame{false, DataType(TypeId::kList), "", ElementPath()});
  }
  bool end_array() override { return Pop(); }
  bool parse_error(std::size_t position, const std::string& /*unused*/,
                   const nlohmann::detail::exception& e) override {
    return Fail("not valid JSON at byte " + std::to_string(position) + " (" + e.what() + ")");
  }

  Status status() const { return status_; }
  bool done() const { return done_; }
  batch::Schema TakeSchema() { return std::move(schema_); }

 private:
  struct Frame {
    bool is_object;
    DataType type;     // the struct so far, or the list (no child until an element is seen)
    std::string key;   // the object's current key
    std::string path;  // dotted path of this value
  };

  // The path of the value about to be delivered into the top frame.
  std::string ElementPath() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (!top.is_object) return top.path;
    return top.path.empty() ? top.key : top.path + "." + top.key;
  }

  bool Push(Frame frame) {
    if (stack_.size() >= kMaxExampleDepth) {
      return Fail(frame.path + ": nested deeper than " + std::to_string(kMaxExampleDepth));
    }
    stack_.push_back(std::move(frame));
    return true;
  }

  bool Pop() {
    DataType t = std::move(stack_.back().type);
    stack_.pop_back();
    return Deliver(std::move(t));
  }

  bool Deliver(DataType t) {
    if (stack_.empty()) {
      if (t.id != TypeId::kStruct) return Fail("the example record must be a JSON object");
      schema_.fields = std::move(t.children);
      for (Field& f : schema_.fields) {
        Status st = Finish(&f.type, f.name);
        if (!st.ok()) {
          status_ = st;
          return false;
        }
      }
      done_ = true;
      return true;
    }
    Frame& top = stack_.back();
    const std::string path = ElementPath();
    if (top.is_object) {
      for (Field& f : top.type.children) {
        if (f.name != top.key) continue;
        Result<DataType> merged = Merge(f.type, t, path);  // a repeated key
        if (!merged.ok()) return Fail(merged.status());
        f.type = std::move(merged).value();
        return true;
      }
      top.type.children.push_back(Field{top.key, std::move(t)});
      return true;
    }
    if (top.type.children.empty()) {
      top.type = DataType::List(Field{"element", std::move(t)});
      return true;
    }
    Result<DataType> merged = Merge(top.type.children[0].type, t, path);
    if (!merged.ok()) return Fail(merged.status());
    top.type.children[0].type = std::move(merged).value();
    return true;
  }

  bool Fail(const std::string& message) {
    return Fail(Err(ErrorCode::kInvalidArgument, "example record: " + message));
  }
  bool Fail(Status status) {
    if (status_.ok()) status_ = std::move(status);
    return false;
  }

  std::vector<Frame> stack_;
  batch::Schema schema_;
  Status status_;
  bool done_ = false;
};

}  // namespace

Result<batch::Schema> InferRecordSchema(std::string_view example_json) {
  Inferrer inferrer;
  const bool ok = nlohmann::json::sax_parse(example_json, &inferrer);
  if (!inferrer.status().ok()) return inferrer.status();
  if (!ok || !inferrer.done()) {
    return Err(ErrorCode::kInvalidArgument, "example record: not valid JSON");
  }
  return inferrer.TakeSchema();
}

}  // namespace sluice::shape
