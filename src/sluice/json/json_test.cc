#include "sluice/json/json.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "sluice/batch/limits.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/json/source_internal.h"

namespace sluice::json {
namespace {

std::string Gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Decoded {
  std::string types;  // "name TYPE, ..."
  std::string rows;   // canonical JSONL
  std::vector<int64_t> batch_sizes;
};

Result<Decoded> Read(const std::string& bytes, ReaderOptions options = {}) {
  SLUICE_ASSIGN_OR_RETURN(
      auto reader, OpenJson(std::make_unique<testing::MemoryFile>(bytes, "in.jsonl"), options));
  Decoded d;
  for (const auto& f : reader->schema().fields) {
    if (!d.types.empty()) d.types += ", ";
    d.types += f.name + " " + batch::TypeName(f.type);
  }
  batch::Batch b;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    batch::AppendCanonicalJsonl(b, &d.rows);
    d.batch_sizes.push_back(b.num_rows);
  }
  return d;
}

Decoded MustRead(const std::string& bytes, ReaderOptions options = {}) {
  auto d = Read(bytes, std::move(options));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : Decoded{};
}

Status ReadError(const std::string& bytes, ReaderOptions options = {}) {
  auto d = Read(bytes, std::move(options));
  EXPECT_FALSE(d.ok());
  return d.ok() ? Status::Ok() : d.status();
}

const char kLines[] =
    "{\"id\":1,\"name\":\"Ana\",\"amount\":12.5,\"ok\":true}\n"
    "{\"id\":2,\"name\":\"Bo\",\"amount\":3,\"ok\":false}\n"
    "{\"id\":3,\"name\":null,\"ok\":null}\n";
const char kExpected[] =
    "{\"id\":1,\"name\":\"Ana\",\"amount\":12.5,\"ok\":true}\n"
    "{\"id\":2,\"name\":\"Bo\",\"amount\":3,\"ok\":false}\n"
    "{\"id\":3,\"name\":null,\"amount\":null,\"ok\":null}\n";

TEST(JsonReader, ReadsEveryInputFormTheSame) {
  const Decoded lines = MustRead(kLines);
  EXPECT_EQ(lines.types, "id BIGINT, name VARCHAR, amount DOUBLE, ok BOOLEAN");
  EXPECT_EQ(lines.rows, kExpected);
  const std::string array =
      "[\n  {\"id\":1,\"name\":\"Ana\",\"amount\":12.5,\"ok\":true},\n"
      "  {\"id\":2,\"name\":\"Bo\",\"amount\":3,\"ok\":false} ,"
      "{\"id\":3,\"name\":null,\"ok\":null}\n]\n";
  EXPECT_EQ(MustRead(array).rows, kExpected);
  EXPECT_EQ(MustRead(Gzip(kLines)).rows, kExpected);
  EXPECT_EQ(MustRead(Gzip(array)).rows, kExpected);
  // Concatenated gzip members.
  EXPECT_EQ(MustRead(Gzip("{\"id\":1}\n") + Gzip("{\"id\":2}\n")).rows, "{\"id\":1}\n{\"id\":2}\n");
  // One pretty-printed object, a BOM, CRLF line ends and no final newline.
  EXPECT_EQ(MustRead("\xef\xbb\xbf{\r\n  \"id\": 7,\r\n  \"tags\": [\"a\", \"b\"]\r\n}").rows,
            "{\"id\":7,\"tags\":[\"a\",\"b\"]}\n");
  EXPECT_EQ(MustRead("[]").rows, "");
  EXPECT_EQ(MustRead("  \n").rows, "");
}

TEST(JsonReader, RecordsSplitAcrossTinyWindowsAndMultiByteUtf8) {
  std::string text;
  std::string array = "[";
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    const std::string rec =
        "{\"id\":" + std::to_string(i) +
        ",\"s\":\"caf\xc3\xa9 \\\"q\\\" \\\\ \xf0\x9f\x98\x80 } ] {\",\"n\":{\"a\":[" +
        std::to_string(i) + "]}}";
    text += rec + "\n";
    array += (i ? ",\n" : "") + rec;
    expected += "{\"id\":" + std::to_string(i) +
                ",\"s\":\"caf\xc3\xa9 \\\"q\\\" \\\\ \xf0\x9f\x98\x80 } ] {\",\"n\":{\"a\":[" +
                std::to_string(i) + "]}}\n";
  }
  for (size_t window : {64, 65, 77, 100, 1000}) {
    ReaderOptions o;
    o.window_bytes = window;
    o.batch_rows = 7;
    const Decoded d = MustRead(text, o);
    EXPECT_TRUE(d.rows == expected) << "window " << window;
    EXPECT_EQ(d.batch_sizes.front(), 7);
    EXPECT_EQ(d.batch_sizes.size(), 43u);
    EXPECT_TRUE(MustRead(Gzip(text), o).rows == expected) << "gzip, window " << window;
    EXPECT_TRUE(MustRead(array + "]", o).rows == expected) << "array, window " << window;
  }
}

TEST(JsonReader, EscapesAreDecoded) {
  EXPECT_EQ(MustRead(R"({"s":"a\nb\t\u00e9\ud83d\ude00\/\"x\""})").rows,
            "{\"s\":\"a\\nb\\t\xc3\xa9\xf0\x9f\x98\x80/\\\"x\\\"\"}\n");
  EXPECT_EQ(MustRead(R"({"k\u0065y":1})").types, "key BIGINT");
}

TEST(JsonReader, BigIntegersStayExact) {
  const Decoded d = MustRead(
      "{\"a\":9007199254740993,\"b\":18446744073709551615,\"c\":-9223372036854775808,"
      "\"d\":123456789012345678901234567890,\"e\":1234567890123456789012345678901234567890}\n");
  EXPECT_EQ(d.types, "a BIGINT, b DECIMAL(38,0), c BIGINT, d DECIMAL(38,0), e VARCHAR");
  EXPECT_EQ(d.rows,
            "{\"a\":\"9007199254740993\",\"b\":\"18446744073709551615\",\"c\":"
            "\"-9223372036854775808\",\"d\":\"123456789012345678901234567890\",\"e\":"
            "\"1234567890123456789012345678901234567890\"}\n");
  // With a target type: UBIGINT reads uint64 exactly; a string of digits is accepted too.
  ReaderOptions o;
  o.schema = batch::Schema{{{"b", batch::DataType(batch::TypeId::kUInt64)},
                            {"a", batch::DataType(batch::TypeId::kInt64)}}};
  EXPECT_EQ(MustRead("{\"b\":18446744073709551615,\"a\":\"-5\"}", o).rows,
            "{\"b\":\"18446744073709551615\",\"a\":-5}\n");
  const Status st = ReadError("{\"b\":-1}", o);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("field 'b'"), std::string::npos) << st.message();
}

TEST(JsonReader, DecimalsAreExactAgainstATarget) {
  ReaderOptions o;
  o.schema = batch::Schema{
      {{"amount", batch::DataType::Decimal(38, 10)}, {"price", batch::DataType::Decimal(9, 2)}}};
  EXPECT_EQ(MustRead("{\"amount\":-12345678901234567890123456.7890123456,\"price\":\"597\"}\n"
                     "{\"amount\":0.1,\"price\":1e2}\n",
                     o)
                .rows,
            "{\"amount\":\"-12345678901234567890123456.7890123456\",\"price\":\"597.00\"}\n"
            "{\"amount\":\"0.1000000000\",\"price\":\"100.00\"}\n");
  const Status st = ReadError("{\"price\":1.5}\n{\"price\":1.005}\n", o);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("line 2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("1.005"), std::string::npos) << st.message();
}

TEST(JsonReader, DatesAndTimestampsAreInferredAndConverted) {
  const Decoded d = MustRead(
      "{\"d\":\"2024-05-01\",\"ts\":\"2024-05-01T10:00:00.5\",\"tz\":\"2024-05-01T10:00:00+02:00\","
      "\"ns\":\"2024-05-01T10:00:00.123456789\",\"mixed\":\"2024-05-01\",\"t\":\"x\"}\n"
      "{\"d\":\"1969-12-31\",\"ts\":\"2024-05-02\",\"tz\":\"2024-05-01T08:00:00Z\","
      "\"ns\":null,\"mixed\":\"soon\",\"t\":\"2024-05-01\"}\n");
  EXPECT_EQ(d.types,
            "d DATE, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE, ns TIMESTAMP_NS, mixed VARCHAR, "
            "t VARCHAR");
  EXPECT_EQ(
      d.rows,
      "{\"d\":\"2024-05-01\",\"ts\":\"2024-05-01T10:00:00.500000\",\"tz\":"
      "\"2024-05-01T08:00:00.000000Z\",\"ns\":\"2024-05-01T10:00:00.123456789\",\"mixed\":"
      "\"2024-05-01\",\"t\":\"x\"}\n"
      "{\"d\":\"1969-12-31\",\"ts\":\"2024-05-02T00:00:00.000000\",\"tz\":"
      "\"2024-05-01T08:00:00.000000Z\",\"ns\":null,\"mixed\":\"soon\",\"t\":\"2024-05-01\"}\n");
}

TEST(JsonReader, NestedValuesBecomeStructsListsAndMaps) {
  const std::string text =
      "{\"order_id\":1,\"customer\":{\"name\":\"Ana\",\"address\":{\"city\":\"Porto\"}},"
      "\"line_items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"B\",\"qty\":1,\"serials\":[\"s1\"]}],"
      "\"tags\":[]}\n"
      "{\"order_id\":2,\"customer\":null,\"line_items\":null,\"tags\":[\"x\",null]}\n";
  const Decoded d = MustRead(text);
  EXPECT_EQ(d.types,
            "order_id BIGINT, customer STRUCT(name VARCHAR, address STRUCT(city VARCHAR)), "
            "line_items STRUCT(sku VARCHAR, qty BIGINT, serials VARCHAR[])[], tags VARCHAR[]");
  EXPECT_EQ(d.rows,
            "{\"order_id\":1,\"customer\":{\"name\":\"Ana\",\"address\":{\"city\":\"Porto\"}},"
            "\"line_items\":[{\"sku\":\"A\",\"qty\":2,\"serials\":null},{\"sku\":\"B\",\"qty\":1,"
            "\"serials\":[\"s1\"]}],\"tags\":[]}\n"
            "{\"order_id\":2,\"customer\":null,\"line_items\":null,\"tags\":[\"x\",null]}\n");
  // A MAP target reads an object's members as entries; JSON keeps the text.
  ReaderOptions o;
  batch::DataType map(batch::TypeId::kMap);
  map.children = {{"key", batch::DataType(batch::TypeId::kString), false},
                  {"value", batch::DataType(batch::TypeId::kInt64)}};
  o.schema = batch::Schema{{{"m", map}, {"raw", batch::DataType(batch::TypeId::kJson)}}};
  EXPECT_EQ(MustRead("{\"m\":{\"a\":1,\"b\":null},\"raw\":{\"x\": [1, 2]}}", o).rows,
            "{\"m\":[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":null}],\"raw\":"
            "\"{\\\"x\\\": [1, 2]}\"}\n");
}

TEST(JsonReader, MixedValuesWidenAndTargetsAddInferredFields) {
  const Decoded d = MustRead(
      "{\"n\":1,\"x\":1,\"o\":{\"a\":1},\"z\":null}\n{\"n\":2.5,\"x\":\"two\",\"o\":3,\"z\":null}"
      "\n");
  EXPECT_EQ(d.types, "n DOUBLE, x VARCHAR, o VARCHAR, z \"NULL\"");
  EXPECT_EQ(d.rows,
            "{\"n\":1,\"x\":\"1\",\"o\":\"{\\\"a\\\":1}\",\"z\":null}\n"
            "{\"n\":2.5,\"x\":\"two\",\"o\":\"3\",\"z\":null}\n");
  ReaderOptions o;
  o.schema = batch::Schema{
      {{"item", batch::DataType::Struct({{"qty", batch::DataType(batch::TypeId::kInt32)}})}}};
  const Decoded t = MustRead("{\"item\":{\"qty\":2,\"note\":\"n\"},\"extra\":true}", o);
  EXPECT_EQ(t.types, "item STRUCT(qty INTEGER, note VARCHAR), extra BOOLEAN");
}

TEST(JsonReader, ValuesThatDoNotFitNameTheRecordAndThePath) {
  ReaderOptions o;
  o.schema = batch::Schema{
      {{"line_items", batch::DataType::List(batch::Field{
                          "element", batch::DataType::Struct(
                                         {{"qty", batch::DataType(batch::TypeId::kInt32)}})})}}};
  Status st = ReadError(
      "{\"line_items\":[{\"qty\":1}]}\n"
      "{\"line_items\":[{\"qty\":1},{\"qty\":2},{\"qty\":\"three\"}]}\n",
      o);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("in.jsonl: line 2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("line_items[2].qty"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("INTEGER"), std::string::npos) << st.message();

  st = ReadError("[{\"qty\":1},\n{\"qty\":99999999999}]", [] {
    ReaderOptions r;
    r.schema = batch::Schema{{{"qty", batch::DataType(batch::TypeId::kInt32)}}};
    return r;
  }());
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("element 1 of the top-level array (line 2"), std::string::npos)
      << st.message();

  // After the inference window: a value of another type, a field never seen before.
  ReaderOptions w;
  w.infer_records = 1;
  st = ReadError("{\"a\":1}\n{\"a\":\"x\"}\n", w);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("line 2"), std::string::npos) << st.message();
  st = ReadError("{\"a\":1}\n{\"a\":2,\"b\":{\"c\":1}}\n", w);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(st.message().find("field 'b'"), std::string::npos) << st.message();
  // The whole file is inferred when asked.
  w.infer_records = 0;
  EXPECT_EQ(MustRead("{\"a\":1}\n{\"a\":\"x\"}\n", w).types, "a VARCHAR");
}

TEST(JsonReader, MalformedJsonIsCorruptWithLineAndOffset) {
  struct Case {
    std::string text;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"{\"a\":1}\n{\"a\":1,}\n", "line 2"},
      {"{\"a\":1}\n{\"a\" 1}\n", "line 2"},
      {"{\"a\":1}\n\n{\"a\":[1 2]}\n", "line 3"},
      {"{\"a\":1}\n{\"a\":tru}\n", "line 2"},
      {"{\"a\":1}\n{\"a\":1\n", "line 2"},          // truncated
      {"{\"a\":1}\n{\"a\":\"open\n", "line 2"},     // unclosed string
      {"{\"a\":1}\n42\n", "line 2"},                // not an object
      {"[{\"a\":1},{\"a\":2}", "top-level array"},  // unclosed array
      {"[{\"a\":1} {\"a\":2}]", "line 1"},          // missing comma
      {"[{\"a\":1}] x", "after the closing"},       // trailing content
      {"[{\"a\":1},7]", "element 1"},               // element not an object
      {"{\"a\":1,\"a\":2}", "appears twice"},       // duplicate key
      {"{\"a\":\"\xff\"}", "line 1"},               // invalid UTF-8
      {"{\"a\":01}", "line 1"},
  };
  for (const Case& c : cases) {
    const Status st = ReadError(c.text);
    EXPECT_EQ(st.code(), ErrorCode::kCorruptFile) << c.text << " -> " << st.ToString();
    EXPECT_NE(st.message().find(c.where), std::string::npos) << c.text << " -> " << st.message();
    EXPECT_EQ(st.message().rfind("in.jsonl: ", 0), 0u) << st.message();
  }
  Status st = ReadError("{\"a\":1}\n{\"a\":1,}\n");
  EXPECT_NE(st.message().find("byte offset 8"), std::string::npos) << st.message();
  // A damaged or truncated gzip stream.
  std::string gz = Gzip(kLines);
  st = ReadError(gz.substr(0, gz.size() / 2));
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile) << st.ToString();
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  st = ReadError(gz);
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile) << st.ToString();
}

TEST(JsonReader, DataThatIsNotJsonIsUnsupported) {
  Status st = ReadError(Gzip("PAR1\x15\x04"));
  EXPECT_EQ(st.code(), ErrorCode::kUnsupportedFormat);
  EXPECT_NE(st.message().find("gzipped parquet"), std::string::npos) << st.message();
  st = ReadError("id,name\n1,a\n");
  EXPECT_EQ(st.code(), ErrorCode::kUnsupportedFormat);
}

TEST(JsonReader, ManyRowsFillFullBatches) {
  std::string text;
  const int n = static_cast<int>(batch::kBatchRows) + 10;
  for (int i = 0; i < n; ++i) text += "{\"id\":" + std::to_string(i) + ",\"v\":\"x\"}\n";
  ReaderOptions o;
  o.infer_records = 100;
  const Decoded d = MustRead(text, o);
  ASSERT_EQ(d.batch_sizes.size(), 2u);
  EXPECT_EQ(d.batch_sizes[0], batch::kBatchRows);
  EXPECT_EQ(d.batch_sizes[1], 10);
}

// --- Limits (json/limits.h, batch/limits.h) ---

TEST(JsonReader, DeepNestingIsALimitNotARecursion) {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 10000; ++i) deep += "[";
  for (int i = 0; i < 10000; ++i) deep += "]";
  deep += "}\n";
  auto got = Read(deep);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kLimitExceeded) << got.status().ToString();
  EXPECT_NE(got.status().message().find("nested deeper than 64 levels"), std::string::npos)
      << got.status().ToString();
  std::string fine = "{\"a\":";
  for (int i = 0; i < 20; ++i) fine += "{\"b\":";
  fine += "1";
  for (int i = 0; i < 21; ++i) fine += "}";
  EXPECT_TRUE(Read(fine + "\n").ok());
}

TEST(JsonReader, TooManyDistinctFieldsIsALimit) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "{\"f" + std::to_string(i) + "\":1}\n";
  auto got = Read(text);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kLimitExceeded) << got.status().ToString();
  EXPECT_NE(got.status().message().find("more than 4096 distinct fields"), std::string::npos)
      << got.status().ToString();
  EXPECT_NE(got.status().message().find("in.jsonl"), std::string::npos);
}

TEST(JsonReader, BatchesAreCutByBytes) {
  std::string text;
  const std::string pad(1000, 'x');
  for (int i = 0; i < 1000; ++i)
    text += "{\"i\":" + std::to_string(i) + ",\"s\":\"" + pad + "\"}\n";
  ReaderOptions options;
  options.limits.batch_bytes = 80000;  // 10,000 raw bytes a batch: ten records
  auto got = Read(text, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->batch_sizes.size(), 100u);
  for (int64_t n : got->batch_sizes) EXPECT_EQ(n, 10);
  auto whole = Read(text);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(got->rows, whole->rows);
}

// `{}` is three bytes of JSON and a slot in every inferred column: batches are cut by the
// slots as well as by the raw bytes.
TEST(JsonReader, BatchesOfEmptyRecordsAreCutByTheirSlots) {
  std::string text = "{";
  for (int i = 0; i < 500; ++i) text += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  text += "}\n";
  for (int i = 0; i < 20000; ++i) text += "{}\n";
  ReaderOptions options;
  options.limits.batch_bytes = 1 << 20;
  auto reader = OpenJson(std::make_unique<testing::MemoryFile>(text, "in.jsonl"), options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  batch::Batch b;
  int64_t rows = 0;
  while (true) {
    auto more = (*reader)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    EXPECT_LE(batch::BatchBytes(b), options.limits.batch_bytes) << b.num_rows << " rows";
    rows += b.num_rows;
  }
  EXPECT_EQ(rows, 20001);
}

// `[{},{},...]` is three bytes of JSON an entry and a slot in every field of the element
// struct: one record's entries are held to the batch budget, and batches are cut by them.
TEST(JsonReader, ListEntriesAreCountedByTheirSlots) {
  std::string wide = "{";
  for (int i = 0; i < 500; ++i) wide += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  wide += "}";
  auto records = [&](int entries) {
    std::string r = "{\"l\":[" + wide;
    for (int i = 1; i < entries; ++i) r += ",{}";
    return r + "]}\n";
  };
  ReaderOptions options;
  options.limits.batch_bytes = 1 << 20;  // about 230 entries of 4,501 bytes
  Status st = ReadError(records(1000), options);
  EXPECT_EQ(st.code(), ErrorCode::kLimitExceeded) << st.ToString();
  EXPECT_NE(st.message().find("at 'l[23"), std::string::npos) << st.ToString();
  std::string text;
  for (int i = 0; i < 40; ++i) text += records(100);
  auto got = Read(text, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (int64_t n : got->batch_sizes) EXPECT_LE(n, 3);
}

TEST(JsonReader, ARecordLargerThanTheBatchBudgetIsALimit) {
  const std::string text = "{\"s\":\"" + std::string(3 << 20, 'y') + "\"}\n";
  ReaderOptions options;
  options.limits.batch_bytes = 2 << 20;
  auto got = Read(text, options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kLimitExceeded) << got.status().ToString();
  EXPECT_NE(got.status().message().find("--load-memory"), std::string::npos);
  options.limits.batch_bytes = 8 << 20;
  EXPECT_TRUE(Read(text, options).ok());
}

// 400 MiB of spaces behind a gzip header of about 400 KiB: the byte source refuses to inflate
// past 256 MiB + 200 x the compressed bytes.
TEST(JsonReader, GzipBombIsRefused) {
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string gz;
  std::string chunk(1 << 20, ' ');
  std::vector<char> out(1 << 20);
  for (int i = 0; i < 400; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(chunk.data());
    z.avail_in = static_cast<uInt>(chunk.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, i == 399 ? Z_FINISH : Z_NO_FLUSH);
      gz.append(out.data(), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  testing::MemoryFile file(gz, "in.jsonl");
  auto source = ByteSource::Open(file);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  Status failed;
  while (true) {
    Result<size_t> n = (*source)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      failed = n.status();
      break;
    }
    ASSERT_GT(*n, 0u) << "inflated all " << total << " bytes";
    total += *n;
  }
  EXPECT_EQ(failed.code(), ErrorCode::kCorruptFile) << failed.ToString();
  EXPECT_NE(failed.message().find("decompression bomb"), std::string::npos) << failed.ToString();
  EXPECT_LT(total, uint64_t{400} << 20);
}

TEST(JsonReader, ScalarTypesFromThePoolsTypeNames) {
  for (const batch::DataType& t :
       {batch::DataType(batch::TypeId::kInt32), batch::DataType(batch::TypeId::kUInt64),
        batch::DataType::Decimal(18, 4), batch::DataType::Decimal(38, 0),
        batch::DataType::Timestamp(batch::TimeUnit::kMicros, true),
        batch::DataType::Timestamp(batch::TimeUnit::kNanos, false),
        batch::DataType(batch::TypeId::kDate), batch::DataType(batch::TypeId::kString),
        batch::DataType(batch::TypeId::kUuid)}) {
    const auto back = ScalarTypeFromName(batch::TypeName(t));
    ASSERT_TRUE(back) << batch::TypeName(t);
    EXPECT_EQ(batch::TypeName(*back), batch::TypeName(t));
  }
  EXPECT_FALSE(ScalarTypeFromName("INTEGER[]"));
  EXPECT_FALSE(ScalarTypeFromName("STRUCT(a INTEGER)"));
  EXPECT_FALSE(ScalarTypeFromName("\"NULL\""));
  EXPECT_FALSE(ScalarTypeFromName("DECIMAL(40,2)"));
  EXPECT_FALSE(ScalarTypeFromName("DECIMAL(9,2"));
}

}  // namespace
}  // namespace sluice::json
