#include "sluice/parquet/schema.h"

#include "sluice/parquet/limits.h"

namespace sluice::parquet {
namespace {

using batch::DataType;
using batch::Field;
using batch::TimeUnit;
using batch::TypeId;

Status Unsupported(const SchemaElement& e, const std::string& what) {
  return Err(ErrorCode::kUnsupportedFormat, "column '" + e.name + "': " + what);
}

TimeUnit ToUnit(LogicalTimeUnit u) {
  switch (u) {
    case LogicalTimeUnit::kMillis:
      return TimeUnit::kMillis;
    case LogicalTimeUnit::kMicros:
      return TimeUnit::kMicros;
    case LogicalTimeUnit::kNanos:
      return TimeUnit::kNanos;
  }
  return TimeUnit::kMicros;
}

// The annotation in LogicalType terms: the LogicalType when present, else the legacy
// ConvertedType translated (DuckDB prefers the LogicalType when both are set).
LogicalType EffectiveAnnotation(const SchemaElement& e) {
  if (e.logical.kind != LogicalKind::kNone) return e.logical;
  LogicalType lt;
  if (!e.converted_type) return lt;
  auto integer = [&](int width, bool is_signed) {
    lt.kind = LogicalKind::kInteger;
    lt.bit_width = width;
    lt.is_signed = is_signed;
  };
  switch (*e.converted_type) {
    case ConvertedType::kUtf8:
      lt.kind = LogicalKind::kString;
      break;
    case ConvertedType::kEnum:
      lt.kind = LogicalKind::kEnum;
      break;
    case ConvertedType::kJson:
      lt.kind = LogicalKind::kJson;
      break;
    case ConvertedType::kBson:
      lt.kind = LogicalKind::kBson;
      break;
    case ConvertedType::kDecimal:
      lt.kind = LogicalKind::kDecimal;
      lt.scale = e.scale;
      lt.precision = e.precision;
      break;
    case ConvertedType::kDate:
      lt.kind = LogicalKind::kDate;
      break;
    case ConvertedType::kTimeMillis:
    case ConvertedType::kTimeMicros:
      lt.kind = LogicalKind::kTime;
      lt.unit = *e.converted_type == ConvertedType::kTimeMillis ? LogicalTimeUnit::kMillis
                                                                : LogicalTimeUnit::kMicros;
      break;
    case ConvertedType::kTimestampMillis:
    case ConvertedType::kTimestampMicros:
      // Legacy timestamps without a LogicalType read as TIMESTAMP (no zone), per the README.
      lt.kind = LogicalKind::kTimestamp;
      lt.unit = *e.converted_type == ConvertedType::kTimestampMillis ? LogicalTimeUnit::kMillis
                                                                     : LogicalTimeUnit::kMicros;
      break;
    case ConvertedType::kUint8:
      integer(8, false);
      break;
    case ConvertedType::kUint16:
      integer(16, false);
      break;
    case ConvertedType::kUint32:
      integer(32, false);
      break;
    case ConvertedType::kUint64:
      integer(64, false);
      break;
    case ConvertedType::kInt8:
      integer(8, true);
      break;
    case ConvertedType::kInt16:
      integer(16, true);
      break;
    case ConvertedType::kInt32:
      integer(32, true);
      break;
    case ConvertedType::kInt64:
      integer(64, true);
      break;
    default:
      break;  // MAP, LIST, INTERVAL (handled on the physical type), unknown ids
  }
  return lt;
}

Status MapDecimal(const SchemaElement& e, const LogicalType& lt, PhysicalType p, DataType* type,
                  Conversion* conv) {
  if (lt.precision < 1 || lt.precision > kMaxDecimalPrecision || lt.scale < 0 ||
      lt.scale > lt.precision) {
    return Unsupported(e, "DECIMAL(" + std::to_string(lt.precision) + "," +
                              std::to_string(lt.scale) + ") (precision 1.." +
                              std::to_string(kMaxDecimalPrecision) +
                              " and 0 <= scale <= precision)");
  }
  *type = DataType::Decimal(lt.precision, lt.scale);
  switch (p) {
    case PhysicalType::kInt32:
      *conv = Conversion::kInt32Decimal;
      return Status::Ok();
    case PhysicalType::kInt64:
      *conv = Conversion::kInt64Decimal;
      return Status::Ok();
    case PhysicalType::kByteArray:
      *conv = Conversion::kBytesDecimal;
      return Status::Ok();
    case PhysicalType::kFixedLenByteArray:
      if (e.type_length < 1 || e.type_length > 16) {
        return Unsupported(
            e, "DECIMAL on FIXED_LEN_BYTE_ARRAY(" + std::to_string(e.type_length) + ")");
      }
      *conv = Conversion::kFixedDecimal;
      return Status::Ok();
    default:
      return Unsupported(e, "DECIMAL on " + PhysicalTypeName(p));
  }
}

// The batch type and conversion of a primitive (leaf) element.
Status MapLeaf(const SchemaElement& e, DataType* type, Conversion* conv) {
  const PhysicalType p = *e.type;
  const LogicalType lt = EffectiveAnnotation(e);
  if (lt.kind == LogicalKind::kUnknown) {
    *type = DataType(TypeId::kNull);
    *conv = Conversion::kNull;
    return Status::Ok();
  }
  if (lt.kind == LogicalKind::kDecimal) return MapDecimal(e, lt, p, type, conv);
  auto mismatch = [&]() {
    return Unsupported(e, "annotation " + LogicalTypeText(lt) + " on " + PhysicalTypeName(p));
  };
  switch (p) {
    case PhysicalType::kBoolean:
      *type = DataType(TypeId::kBool);
      *conv = Conversion::kBool;
      return Status::Ok();
    case PhysicalType::kInt32:
      *type = DataType(TypeId::kInt32);
      *conv = Conversion::kInt32Signed;
      if (lt.kind == LogicalKind::kInteger) {
        static const TypeId kSigned[] = {TypeId::kInt8, TypeId::kInt16, TypeId::kInt32};
        static const TypeId kUnsigned[] = {TypeId::kUInt8, TypeId::kUInt16, TypeId::kUInt32};
        int slot = lt.bit_width == 8 ? 0 : lt.bit_width == 16 ? 1 : lt.bit_width == 32 ? 2 : -1;
        if (slot < 0) return mismatch();
        *type = DataType(lt.is_signed ? kSigned[slot] : kUnsigned[slot]);
        *conv = lt.is_signed ? Conversion::kInt32Signed : Conversion::kInt32Unsigned;
      } else if (lt.kind == LogicalKind::kDate) {
        *type = DataType(TypeId::kDate);
        *conv = Conversion::kInt32Date;
      } else if (lt.kind == LogicalKind::kTime) {
        if (lt.unit != LogicalTimeUnit::kMillis) return mismatch();
        *type = DataType::Time(TimeUnit::kMillis, lt.utc);
      } else if (lt.kind != LogicalKind::kNone && lt.kind != LogicalKind::kOther) {
        return mismatch();
      }
      return Status::Ok();
    case PhysicalType::kInt64:
      *type = DataType(TypeId::kInt64);
      *conv = Conversion::kInt64Copy;
      if (lt.kind == LogicalKind::kInteger) {
        if (lt.bit_width != 64) return mismatch();
        *type = DataType(lt.is_signed ? TypeId::kInt64 : TypeId::kUInt64);
      } else if (lt.kind == LogicalKind::kTimestamp) {
        *type = DataType::Timestamp(ToUnit(lt.unit), lt.utc);
      } else if (lt.kind == LogicalKind::kTime) {
        if (lt.unit == LogicalTimeUnit::kMillis) return mismatch();
        *type = DataType::Time(ToUnit(lt.unit), lt.utc);
      } else if (lt.kind != LogicalKind::kNone && lt.kind != LogicalKind::kOther) {
        return mismatch();
      }
      return Status::Ok();
    case PhysicalType::kInt96:
      *type = DataType::Timestamp(TimeUnit::kMicros, false);
      *conv = Conversion::kInt96Timestamp;
      return Status::Ok();
    case PhysicalType::kFloat:
      *type = DataType(TypeId::kFloat);
      *conv = Conversion::kFloatCopy;
      return Status::Ok();
    case PhysicalType::kDouble:
      *type = DataType(TypeId::kDouble);
      *conv = Conversion::kDoubleCopy;
      return Status::Ok();
    case PhysicalType::kByteArray:
      *conv = Conversion::kBytes;
      if (lt.kind == LogicalKind::kString || lt.kind == LogicalKind::kEnum) {
        *type = DataType(TypeId::kString);
      } else if (lt.kind == LogicalKind::kJson) {
        *type = DataType(TypeId::kJson);
      } else {
        *type = DataType(TypeId::kBinary);
      }
      return Status::Ok();
    case PhysicalType::kFixedLenByteArray:
      if (e.type_length < 0) return Unsupported(e, "negative FIXED_LEN_BYTE_ARRAY length");
      *type = DataType(TypeId::kBinary);
      *conv = Conversion::kFixedBytes;
      if (lt.kind == LogicalKind::kUuid) {
        if (e.type_length != 16) return mismatch();
        *type = DataType(TypeId::kUuid);
        *conv = Conversion::kFixedCopy;
      } else if (lt.kind == LogicalKind::kFloat16) {
        if (e.type_length != 2) return mismatch();
        *type = DataType(TypeId::kFloat);
        *conv = Conversion::kFloat16;
      } else if (e.converted_type == ConvertedType::kInterval) {
        if (e.type_length != 12) return Unsupported(e, "INTERVAL not of 12 bytes");
        *type = DataType(TypeId::kInterval);
        *conv = Conversion::kFixedCopy;
      } else if (lt.kind == LogicalKind::kString || lt.kind == LogicalKind::kEnum) {
        *type = DataType(TypeId::kString);
      }
      return Status::Ok();
  }
  return Unsupported(e, "physical type " + std::to_string(static_cast<int>(p)));
}

bool IsList(const SchemaElement& e) {
  return e.logical.kind == LogicalKind::kList ||
         (e.logical.kind == LogicalKind::kNone && e.converted_type == ConvertedType::kList);
}
bool IsMap(const SchemaElement& e) {
  return e.logical.kind == LogicalKind::kMap || (e.logical.kind == LogicalKind::kNone &&
                                                 (e.converted_type == ConvertedType::kMap ||
                                                  e.converted_type == ConvertedType::kMapKeyValue));
}

// The shape of one schema element and its batch field, built bottom-up.
struct Node {
  Field field;      // the element's field: a list of `inner` when the element is repeated
  ShapeNode shape;  // assembles `field`
  ShapeNode inner;  // assembles the element as if it were not repeated
  std::vector<Field> kid_fields;      // a group's children, as fields
  std::vector<ShapeNode> kid_shapes;  // and as shapes
  bool repeated = false;
  bool group = false;
};

class Walker {
 public:
  explicit Walker(const std::vector<SchemaElement>& elements) : elements_(elements) {}

  // Walks the element at next_ whose parent's levels are (rep, def); `path` names it.
  Result<Node> Walk(int depth, int16_t rep, int16_t def, const std::string& path) {
    if (depth > kMaxSchemaDepth)
      return Corrupt("schema nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    if (next_ >= elements_.size()) return Corrupt("schema ends inside a group");
    const size_t index = next_++;
    const SchemaElement& e = elements_[index];
    const std::string name = path.empty() ? e.name : path + "." + e.name;
    const Repetition repetition = e.repetition.value_or(Repetition::kRequired);
    Node node;
    node.repeated = repetition == Repetition::kRepeated;
    const int16_t rep_e = static_cast<int16_t>(rep + (node.repeated ? 1 : 0));
    const int16_t def_e = static_cast<int16_t>(def + (repetition != Repetition::kRequired ? 1 : 0));
    // The element as if not repeated: when it is, its slots are the list's elements.
    ShapeNode& inner = node.inner;
    inner.rep_ctx = rep_e;
    inner.def_ctx = node.repeated ? def_e : def;
    inner.def_valid = def_e;
    inner.first_leaf = static_cast<int>(leaves_.size());
    if (e.num_children < 0) return Corrupt("negative child count in '" + e.name + "'");
    if (e.num_children == 0) {
      if (!e.type) return Corrupt("element '" + e.name + "' has neither type nor children");
      LeafColumn leaf;
      leaf.name = name;
      leaf.physical = *e.type;
      leaf.type_length = e.type_length;
      leaf.max_definition_level = def_e;
      leaf.max_repetition_level = rep_e;
      SLUICE_RETURN_IF_ERROR(MapLeaf(e, &leaf.type, &leaf.conversion));
      inner.kind = ShapeKind::kLeaf;
      inner.type = leaf.type;
      leaves_.push_back(std::move(leaf));
    } else {
      node.group = true;
      if (static_cast<size_t>(e.num_children) > elements_.size() - next_) {
        return Corrupt("group '" + e.name + "' claims more children than the schema holds");
      }
      std::vector<Node> kids;
      for (int32_t i = 0; i < e.num_children; ++i) {
        SLUICE_ASSIGN_OR_RETURN(Node kid, Walk(depth + 1, rep_e, def_e, name));
        node.kid_fields.push_back(kid.field);
        node.kid_shapes.push_back(kid.shape);
        kids.push_back(std::move(kid));
      }
      const bool one_repeated = kids.size() == 1 && kids[0].repeated;
      if (IsList(e) && one_repeated) {
        // LogicalTypes.md backward-compatibility rules for the element.
        const Node& r = kids[0];
        const SchemaElement& r_el = elements_[index + 1];
        const bool three_level = r.group && r.kid_shapes.size() == 1 && r_el.name != "array" &&
                                 r_el.name != e.name + "_tuple";
        inner.kind = ShapeKind::kList;
        inner.children.push_back(three_level ? r.kid_shapes[0] : r.inner);
        inner.type =
            DataType::List(three_level ? r.kid_fields[0] : Field{r_el.name, r.inner.type, false});
      } else if (IsMap(e) && one_repeated && kids[0].group && !kids[0].kid_shapes.empty() &&
                 kids[0].kid_shapes.size() <= 2) {
        const Node& kv = kids[0];
        ShapeNode entry = kv.inner;
        entry.kind = ShapeKind::kStruct;
        entry.children = kv.kid_shapes;
        entry.type = DataType::Struct(kv.kid_fields);
        if (kv.kid_shapes.size() == 1) {
          // A map without values reads as the list of its keys (as arrow-rs does).
          inner.kind = ShapeKind::kList;
          inner.children.push_back(kv.kid_shapes[0]);
          inner.type = DataType::List(kv.kid_fields[0]);
        } else {
          inner.kind = ShapeKind::kMap;
          inner.children.push_back(std::move(entry));
          inner.type = DataType(TypeId::kMap);
          inner.type.children = kv.kid_fields;
        }
      } else {
        inner.kind = ShapeKind::kStruct;
        std::vector<Field> fields;
        for (Node& kid : kids) {
          fields.push_back(kid.field);
          inner.children.push_back(std::move(kid.shape));
        }
        inner.type = DataType::Struct(std::move(fields));
      }
    }
    node.field.name = e.name;
    node.field.nullable = repetition == Repetition::kOptional;
    if (node.repeated) {
      // A repeated element outside a LIST annotation: a required list, empty when absent.
      node.shape.kind = ShapeKind::kList;
      node.shape.rep_ctx = rep;
      node.shape.def_ctx = def;
      node.shape.def_valid = def;
      node.shape.first_leaf = inner.first_leaf;
      node.shape.type = DataType::List(Field{e.name, inner.type, false});
      node.shape.children.push_back(inner);
      node.field.nullable = false;
    } else {
      node.shape = inner;
    }
    node.field.type = node.shape.type;
    return node;
  }

  size_t next() const { return next_; }
  std::vector<LeafColumn>& leaves() { return leaves_; }

 private:
  static Status Corrupt(const std::string& what) { return Err(ErrorCode::kCorruptFile, what); }
  const std::vector<SchemaElement>& elements_;
  size_t next_ = 1;
  std::vector<LeafColumn> leaves_;
};

}  // namespace

Result<FileSchema> BuildFileSchema(const std::vector<SchemaElement>& elements) {
  if (elements.empty()) return Err(ErrorCode::kCorruptFile, "footer has an empty schema");
  if (elements.size() > static_cast<size_t>(kMaxColumns)) {
    return Err(ErrorCode::kUnsupportedFormat,
               "schema of " + std::to_string(elements.size()) + " elements exceeds kMaxColumns");
  }
  const SchemaElement& root = elements[0];
  if (root.num_children < 0 || static_cast<size_t>(root.num_children) >= elements.size() + 1) {
    return Err(ErrorCode::kCorruptFile,
               "schema root claims " + std::to_string(root.num_children) + " children");
  }
  FileSchema fs;
  Walker walker(elements);
  for (int32_t i = 0; i < root.num_children; ++i) {
    TopColumn top;
    top.first_leaf = static_cast<int>(walker.leaves().size());
    top.schema_index = static_cast<int>(walker.next());
    SLUICE_ASSIGN_OR_RETURN(Node node, walker.Walk(1, 0, 0, ""));
    top.num_leaves = static_cast<int>(walker.leaves().size()) - top.first_leaf;
    top.name = node.field.name;
    top.type = node.field.type;
    top.shape = std::move(node.shape);
    fs.schema.fields.push_back(node.field);
    fs.columns.push_back(std::move(top));
  }
  if (walker.next() != elements.size()) {
    return Err(ErrorCode::kCorruptFile, "schema has " + std::to_string(elements.size()) +
                                            " elements but the root's tree covers " +
                                            std::to_string(walker.next()));
  }
  fs.leaves = std::move(walker.leaves());
  fs.num_leaves = static_cast<int>(fs.leaves.size());
  return fs;
}

std::string LogicalTypeText(const LogicalType& lt) {
  auto unit = [&]() {
    return std::string(lt.unit == LogicalTimeUnit::kMillis   ? "MILLIS"
                       : lt.unit == LogicalTimeUnit::kMicros ? "MICROS"
                                                             : "NANOS");
  };
  switch (lt.kind) {
    case LogicalKind::kNone:
      return "";
    case LogicalKind::kString:
      return "STRING";
    case LogicalKind::kMap:
      return "MAP";
    case LogicalKind::kList:
      return "LIST";
    case LogicalKind::kEnum:
      return "ENUM";
    case LogicalKind::kDecimal:
      return "DECIMAL(" + std::to_string(lt.precision) + "," + std::to_string(lt.scale) + ")";
    case LogicalKind::kDate:
      return "DATE";
    case LogicalKind::kTime:
      return "TIME(" + unit() + "," + (lt.utc ? "true" : "false") + ")";
    case LogicalKind::kTimestamp:
      return "TIMESTAMP(" + unit() + "," + (lt.utc ? "true" : "false") + ")";
    case LogicalKind::kInteger:
      return "INTEGER(" + std::to_string(lt.bit_width) + "," + (lt.is_signed ? "true" : "false") +
             ")";
    case LogicalKind::kUnknown:
      return "UNKNOWN";
    case LogicalKind::kJson:
      return "JSON";
    case LogicalKind::kBson:
      return "BSON";
    case LogicalKind::kUuid:
      return "UUID";
    case LogicalKind::kFloat16:
      return "FLOAT16";
    case LogicalKind::kOther:
      return "LOGICAL_" + std::to_string(lt.other_id);
  }
  return "";
}

}  // namespace sluice::parquet
