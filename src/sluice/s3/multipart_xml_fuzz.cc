// libFuzzer target for the XML request bodies: any bytes must parse or fail with a status,
// never crash, hang or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sluice/s3/multipart_xml_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto parts = sluice::s3::ParseCompleteMultipartUpload(xml);
  if (parts.ok() && parts->empty()) __builtin_trap();  // a Complete must list a part
  auto del = sluice::s3::ParseDeleteObjects(xml);
  if (del.ok() && del->keys.empty()) __builtin_trap();
  if (del.ok() && del->version_ids.size() != del->keys.size()) __builtin_trap();
  (void)sluice::s3::ParseVersioningConfiguration(xml);
  return 0;
}
