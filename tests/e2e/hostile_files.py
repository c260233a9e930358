"""Hand-built hostile files for the hostile suite (test_hostile.py): every byte is known, so
each file is exactly the attack it names. A minimal Parquet writer (thrift compact protocol,
long-form field headers) and JSON generators; no library writes files this wrong."""

import struct
import zlib

# Parquet physical types, repetitions, codecs, page types, encodings.
INT64, BYTE_ARRAY = 2, 6
REQUIRED, OPTIONAL = 0, 1
UNCOMPRESSED, GZIP = 0, 2
DATA_PAGE, DICTIONARY_PAGE = 0, 2
PLAIN, RLE, RLE_DICTIONARY = 0, 3, 8
UTF8 = 0


class Thrift:
    I32, I64, BINARY, LIST, STRUCT = 5, 6, 8, 9, 12

    def __init__(self):
        self.out = bytearray()

    def varint(self, v):
        while v >= 0x80:
            self.out.append((v & 0x7F) | 0x80)
            v >>= 7
        self.out.append(v)
        return self

    def zigzag(self, v):
        return self.varint((v << 1) ^ (v >> 63))

    def field(self, fid, ftype):
        self.out.append(ftype)
        return self.zigzag(fid)

    def i32(self, fid, v):
        return self.field(fid, self.I32).zigzag(v)

    def i64(self, fid, v):
        return self.field(fid, self.I64).zigzag(v)

    def string(self, fid, s):
        b = s.encode() if isinstance(s, str) else s
        self.field(fid, self.BINARY).varint(len(b))
        self.out += b
        return self

    def list_header(self, fid, elem_type, size):
        self.field(fid, self.LIST)
        if size < 15:
            self.out.append((size << 4) | elem_type)
        else:
            self.out.append(0xF0 | elem_type)
            self.varint(size)
        return self

    def struct(self, fid):
        return self.field(fid, self.STRUCT)

    def stop(self):
        self.out.append(0)
        return self


def rle_run(count, value, bit_width=1):
    """One RLE run of the hybrid encoding: `count` x `value`."""
    t = Thrift().varint(count << 1)
    return bytes(t.out) + value.to_bytes((bit_width + 7) // 8, "little")


def page_header(page_type, uncompressed, compressed, num_values, encoding):
    t = Thrift().i32(1, page_type).i32(2, uncompressed).i32(3, compressed)
    if page_type == DICTIONARY_PAGE:
        t.struct(7).i32(1, num_values).i32(2, PLAIN).stop()
    else:
        t.struct(5).i32(1, num_values).i32(2, encoding).i32(3, RLE).i32(4, RLE).stop()
    return bytes(t.stop().out)


def gzip(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def page(page_type, body, num_values, encoding, codec, claimed=None):
    """A page: header and body, compressed by `codec`; `claimed` overrides the uncompressed
    size the header declares."""
    stored = gzip(body) if codec == GZIP else body
    size = len(body) if claimed is None else claimed
    return page_header(page_type, size, len(stored), num_values, encoding) + stored


def parquet_file(columns, num_rows, schema=None):
    """columns: [(name, physical, repetition, codec, pages_bytes, has_dictionary)]: one row
    group. `schema` replaces the flat schema (a list of thrift-encoded SchemaElement writers)."""
    out = bytearray(b"PAR1")
    chunks = []
    for name, physical, repetition, codec, pages, has_dict in columns:
        offset = len(out)
        out += pages
        chunks.append((name, physical, codec, offset, len(pages), has_dict))
    md = Thrift().i32(1, 1)
    if schema is None:
        md.list_header(2, Thrift.STRUCT, len(columns) + 1)
        md.string(4, "schema").i32(5, len(columns)).stop()
        for name, physical, repetition, _, _, _ in columns:
            md.i32(1, physical).i32(3, repetition).string(4, name)
            if physical == BYTE_ARRAY:
                md.i32(6, UTF8)
            md.stop()
    else:
        md.list_header(2, Thrift.STRUCT, len(schema))
        for element in schema:
            element(md)
    md.i64(3, num_rows)
    md.list_header(4, Thrift.STRUCT, 1 if chunks else 0)
    if chunks:
        md.list_header(1, Thrift.STRUCT, len(chunks))
        for name, physical, codec, offset, size, has_dict in chunks:
            md.i64(2, offset).struct(3)
            md.i32(1, physical)
            md.list_header(2, Thrift.I32, 2).zigzag(PLAIN).zigzag(RLE_DICTIONARY if has_dict else RLE)
            md.list_header(3, Thrift.BINARY, 1).varint(len(name))
            md.out += name.encode()
            md.i32(4, codec).i64(5, num_rows).i64(6, size).i64(7, size)
            md.i64(9, offset)
            if has_dict:
                md.i64(11, offset)
            md.stop()  # ColumnMetaData
            md.stop()  # ColumnChunk
        md.i64(2, sum(c[4] for c in chunks)).i64(3, num_rows).stop()  # RowGroup
    md.string(6, "sluice hostile suite").stop()
    out += md.out
    out += struct.pack("<I", len(md.out)) + b"PAR1"
    return bytes(out)


def dictionary_bomb(value_bytes=1 << 20, rows=65536):
    """The issue's 1.2 KB file: a dictionary of one `value_bytes` string (gzip) and a data page
    whose RLE runs repeat index 0 `rows` times: rows x value_bytes of strings (64 GiB)."""
    dictionary = struct.pack("<I", value_bytes) + b"a" * value_bytes
    definition = rle_run(rows, 1)
    body = struct.pack("<I", len(definition)) + definition + bytes([1]) + rle_run(rows, 0)
    pages = (page(DICTIONARY_PAGE, dictionary, 1, PLAIN, GZIP) +
             page(DATA_PAGE, body, rows, RLE_DICTIONARY, GZIP))
    return parquet_file([("x", BYTE_ARRAY, OPTIONAL, GZIP, pages, True)], rows)


def huge_pages(columns=40, page_bytes=100 << 20):
    """`columns` REQUIRED INT64 columns, each one gzip page that inflates to `page_bytes`
    (zeros): every column claims (and holds) a huge page."""
    zeros = gzip(bytes(page_bytes))
    rows = page_bytes // 8
    header = page_header(DATA_PAGE, page_bytes, len(zeros), rows, PLAIN)
    cols = [(f"c{i}", INT64, REQUIRED, GZIP, header + zeros, False) for i in range(columns)]
    return parquet_file(cols, rows)


def deep_parquet_schema(depth=1000):
    """A schema `depth` groups deep around one INT64 leaf, no row groups."""
    elements = [lambda t: t.string(4, "schema").i32(5, 1).stop()]
    for i in range(depth):
        elements.append(lambda t, i=i: t.i32(3, OPTIONAL).string(4, f"g{i}").i32(5, 1).stop())
    elements.append(lambda t: t.i32(1, INT64).i32(3, OPTIONAL).string(4, "id").stop())
    return parquet_file([], 0, schema=elements)


def deep_json(depth=100000):
    return b'{"id":1,"a":' + b"[" * depth + b"]" * depth + b"}\n"


def json_slot_bomb(fields=1500, entries=400000):
    """One record whose list holds `entries` empty objects after one with `fields` fields:
    3 bytes of JSON an entry, a slot in each of the element struct's fields (about 21 GB)."""
    first = "{" + ",".join(f'"f{i}":1' for i in range(fields)) + "}"
    return ('{"id":1,"l":[' + first + ",{}" * (entries - 1) + "]}\n").encode()


def gzip_json_bomb(inflated=4 << 30):
    """Concatenated gzip members of 64 KiB records: `inflated` bytes of JSON Lines from about
    inflated / 1000 compressed bytes."""
    record = b'{"id":1,"s":"' + b"a" * (64 * 1024 - 17) + b'"}\n'
    member = gzip(record * 1024)  # 64 MiB inflated
    return member * (inflated // (64 << 20))
