#pragma once
// Private to s3/: exchanges that read a request body. The upload exchange (PutObject,
// UploadPart) streams the decoded body into an ObjectSink through a PayloadReader and commits
// only after every check passed; a failed or abandoned upload is Aborted, never committed. The
// buffered exchange (CompleteMultipartUpload, DeleteObjects, CreateBucket) collects a small body,
// verified the same way, and hands it to a callback that produces the response.

#include <functional>
#include <memory>
#include <string>

#include "sluice/s3/payload_internal.h"
#include "sluice/s3/response_internal.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

// `full_object`: PutObject (echoes x-amz-checksum-type FULL_OBJECT); false for UploadPart.
std::unique_ptr<http::Exchange> MakeUploadExchange(ResponseContext ctx, const Clock& clock,
                                                   PayloadPlan plan,
                                                   std::unique_ptr<ObjectSink> sink,
                                                   bool full_object);

using BodyHandler = std::function<http::Response(std::string body)>;
// `plan.decoded_length` must already be bounded by PlanPayload's max_bytes. `long_finish`: the
// handler may take seconds (a Complete assembles the upload), so it runs on the long pool.
std::unique_ptr<http::Exchange> MakeBufferedExchange(ResponseContext ctx, const Clock& clock,
                                                     PayloadPlan plan, BodyHandler handler,
                                                     bool long_finish = false);

}  // namespace sluice::s3
