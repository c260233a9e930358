#pragma once
// Private to http/ tests and fuzz targets: what the session needs of Beast's in-memory test
// stream (session_template_internal.h's LowestLayerOps), so a Session can run over scripted bytes.
// There are no timeouts and no half-close in memory.

#include <boost/beast/_experimental/test/stream.hpp>
#include <chrono>

#include "sluice/http/session_template_internal.h"

namespace sluice::http::internal {

template <>
struct LowestLayerOps<beast::test::stream> {
  static void ExpiresAfter(beast::test::stream&, std::chrono::seconds) {}
  static void ExpiresNever(beast::test::stream&) {}
  static void Cancel(beast::test::stream& s) { s.close(); }
  static bool ShutdownSend(beast::test::stream&) { return false; }
  static void Close(beast::test::stream& s) { s.close(); }
};

}  // namespace sluice::http::internal
