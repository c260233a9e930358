#include "sluice/batch/prefetch.h"

#include <deque>
#include <exception>
#include <new>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/core/mutex.h"

namespace sluice::batch {
namespace {

class PrefetchingReader final : public BatchReader {
 public:
  PrefetchingReader(std::unique_ptr<BatchReader> inner, int depth)
      : inner_(std::move(inner)),
        schema_(inner_->schema()),
        num_rows_(inner_->num_rows()),
        depth_(depth < 1 ? 1 : depth) {
    thread_ = std::thread([this] { Decode(); });
  }

  ~PrefetchingReader() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }

  PrefetchingReader(const PrefetchingReader&) = delete;
  PrefetchingReader& operator=(const PrefetchingReader&) = delete;

  const Schema& schema() const override { return schema_; }
  int64_t num_rows() const override { return num_rows_; }

  Result<bool> Next(Batch* out) override {
    MutexLock lock(&mu_);
    while (ready_.empty() && !finished_) cv_.Wait(&mu_);
    if (ready_.empty()) {
      if (!error_.ok()) return error_;
      return false;
    }
    // The caller's previous batch goes back to the decoder for its buffers.
    std::swap(*out, ready_.front());
    spare_.push_back(std::move(ready_.front()));
    ready_.pop_front();
    lock.Unlock();
    cv_.SignalAll();
    return true;
  }

 private:
  // The wrapped reader's Next behind an exception barrier: an exception on this thread would
  // end the process (std::terminate), so it becomes the reader's failure, which the consumer
  // gets in order, as any other.
  Result<bool> GuardedNext(Batch* batch) {
    try {
      return inner_->Next(batch);
    } catch (const std::bad_alloc&) {
      return Err(ErrorCode::kLimitExceeded,
                 "decoding the next batch needed more memory than the process could allocate "
                 "(std::bad_alloc)");
    } catch (const std::exception& e) {
      return Err(ErrorCode::kInternal,
                 std::string("decoding the next batch threw an unexpected exception: ") + e.what());
    } catch (...) {
      return Err(ErrorCode::kInternal,
                 "decoding the next batch threw an unexpected exception of unknown type");
    }
  }

  void Decode() {
    while (true) {
      Batch batch;
      {
        MutexLock lock(&mu_);
        while (!stopping_ && static_cast<int>(ready_.size()) >= depth_) cv_.Wait(&mu_);
        if (stopping_) break;
        if (!spare_.empty()) {
          batch = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      Result<bool> more = GuardedNext(&batch);
      MutexLock lock(&mu_);
      if (!more.ok() || !*more) {
        if (!more.ok()) error_ = more.status();
        break;
      }
      try {
        ready_.push_back(std::move(batch));
      } catch (const std::bad_alloc&) {
        error_ = Err(ErrorCode::kLimitExceeded,
                     "queueing a decoded batch needed more memory than the process could "
                     "allocate (std::bad_alloc)");
        break;
      }
      cv_.SignalAll();
    }
    MutexLock lock(&mu_);
    finished_ = true;
    cv_.SignalAll();
  }

  std::unique_ptr<BatchReader> inner_;
  const Schema schema_;
  const int64_t num_rows_;
  const int depth_;

  Mutex mu_;
  CondVar cv_;
  std::deque<Batch> ready_ GUARDED_BY(mu_);   // decoded, in file order
  std::vector<Batch> spare_ GUARDED_BY(mu_);  // handed back by the caller, for reuse
  Status error_ GUARDED_BY(mu_);              // the decoder's failure, after the batches before it
  bool finished_ GUARDED_BY(mu_) = false;     // the decoder has stopped (end, failure or stop)
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once every member above exists
};

}  // namespace

std::unique_ptr<BatchReader> Prefetch(std::unique_ptr<BatchReader> reader, int depth) {
  return std::make_unique<PrefetchingReader>(std::move(reader), depth);
}

}  // namespace sluice::batch
