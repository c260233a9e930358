#include <utility>

#include "sluice/s3/put_object_internal.h"

namespace sluice::s3 {
namespace {

// An upload at least this big is committed on the long pool (http.h, FinishIsLong): its fsync
// can take seconds on a busy disk, and small PUTs must not queue behind four of those.
constexpr uint64_t kLongCommitBytes = 64ull * 1024 * 1024;

class UploadExchange final : public http::Exchange {
 public:
  UploadExchange(ResponseContext ctx, const Clock& clock, PayloadPlan plan,
                 std::unique_ptr<ObjectSink> sink, bool full_object)
      : ctx_(std::move(ctx)),
        clock_(clock),
        reader_(std::move(plan)),
        sink_(std::move(sink)),
        full_object_(full_object) {}

  ~UploadExchange() override {
    // Dropped without Finish (connection lost): nothing may be stored.
    if (!done_) sink_->Abort();
  }

  Status OnBody(ByteView data) override {
    if (done_) return Status(ErrorCode::kInternal, "body after the upload was closed");
    return reader_.Feed(data, [this](ByteView piece) {
      appended_ += piece.size();
      return sink_->Append(piece);
    });
  }

  http::Response Finish(const Status& body_status) override {
    if (done_) return Fail(Status(ErrorCode::kInternal, "upload finished twice"));
    if (!body_status.ok()) {
      ctx_.body_pending = true;  // the rest of the body was not read: close the connection
      return Fail(body_status);
    }
    auto digests = reader_.Finish();
    if (!digests.ok()) return Fail(digests.status());
    auto committed = sink_->Commit(*digests);
    if (!committed.ok()) return Fail(committed.status());
    done_ = true;
    http::Response r = BaseResponse(ctx_, clock_, 200);
    r.headers.emplace_back("ETag", "\"" + digests->md5_hex + "\"");
    if (const auto& checksum = reader_.checksum(); checksum.has_value()) {
      r.headers.emplace_back(checksum->header, checksum->sent);
      if (full_object_) r.headers.emplace_back("x-amz-checksum-type", "FULL_OBJECT");
    }
    for (auto& h : *committed) r.headers.push_back(std::move(h));
    return sink_->Respond(std::move(r));
  }
  // Commit fsyncs the whole object (up to max_object_bytes) and records it in SQLite.
  bool FinishBlocks() const override { return true; }
  bool FinishIsLong() const override { return appended_ >= kLongCommitBytes; }

 private:
  http::Response Fail(const Status& status) {
    if (!done_) sink_->Abort();
    done_ = true;
    return ErrorResponse(ctx_, clock_, status);
  }

  ResponseContext ctx_;
  const Clock& clock_;
  PayloadReader reader_;
  std::unique_ptr<ObjectSink> sink_;
  const bool full_object_;
  uint64_t appended_ = 0;  // decoded body bytes handed to the sink
  bool done_ = false;      // committed or aborted
};

class BufferedExchange final : public http::Exchange {
 public:
  BufferedExchange(ResponseContext ctx, const Clock& clock, PayloadPlan plan, BodyHandler handler,
                   bool long_finish)
      : ctx_(std::move(ctx)),
        clock_(clock),
        reader_(std::move(plan)),
        handler_(std::move(handler)),
        long_finish_(long_finish) {}

  Status OnBody(ByteView data) override {
    return reader_.Feed(data, [this](ByteView piece) {
      body_.append(AsChars(piece));
      return Status::Ok();
    });
  }

  http::Response Finish(const Status& body_status) override {
    if (!body_status.ok()) {
      ctx_.body_pending = true;
      return ErrorResponse(ctx_, clock_, body_status);
    }
    auto digests = reader_.Finish();
    if (!digests.ok()) return ErrorResponse(ctx_, clock_, digests.status());
    return handler_(std::move(body_));
  }
  // The handler writes SQLite, or assembles a multipart upload (copying and fsyncing
  // gigabytes: long_finish).
  bool FinishBlocks() const override { return true; }
  bool FinishIsLong() const override { return long_finish_; }

 private:
  ResponseContext ctx_;
  const Clock& clock_;
  PayloadReader reader_;
  BodyHandler handler_;
  const bool long_finish_;
  std::string body_;
};

}  // namespace

std::unique_ptr<http::Exchange> MakeUploadExchange(ResponseContext ctx, const Clock& clock,
                                                   PayloadPlan plan,
                                                   std::unique_ptr<ObjectSink> sink,
                                                   bool full_object) {
  return std::make_unique<UploadExchange>(std::move(ctx), clock, std::move(plan), std::move(sink),
                                          full_object);
}

std::unique_ptr<http::Exchange> MakeBufferedExchange(ResponseContext ctx, const Clock& clock,
                                                     PayloadPlan plan, BodyHandler handler,
                                                     bool long_finish) {
  return std::make_unique<BufferedExchange>(std::move(ctx), clock, std::move(plan),
                                            std::move(handler), long_finish);
}

}  // namespace sluice::s3
