#pragma once
// store: the S3 object store over the catalog, the landing store and the loader. It implements
// s3::Backend (StoreBackend: PUTs become durable files and ledger entries; reads, listings,
// deletes, multipart uploads and buckets meet the ledger) and the policies around it: the
// per-connection disk quota (DiskQuota), flow control (Backpressure before a body is read,
// LoadWaits holding responses until a load finished), the upload-expiry and retention ticks
// (UploadReaper) and the access keys' last-used times (KeyUsage). It knows no sockets and no
// configuration syntax: app/ constructs and wires these objects.
//
// - s3_backend.h: StoreBackend, BackendOptions.
// - flow.h: Backpressure, FlowLimits, LoadWaits.
// - quota.h: DiskQuota, QuotaReservation, DescribeBytes.
// - reaper.h: UploadReaper and its intervals.
// - key_usage.h: KeyUsage.
// - upload_observer.h: UploadObserver, what the store reports for the /metrics page.
//
// Thread-safety: each class states its own; all are safe to share between I/O threads.

#include "sluice/store/flow.h"
#include "sluice/store/key_usage.h"
#include "sluice/store/quota.h"
#include "sluice/store/reaper.h"
#include "sluice/store/s3_backend.h"
#include "sluice/store/upload_observer.h"
