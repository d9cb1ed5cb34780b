#include "replication/source_walk.h"

namespace tiersync::replication {
namespace {

int64_t NowMs(Env* env) { return static_cast<int64_t>(env->NowMicros() / 1000); }

}  // namespace

void RecordAnswer(SourcePolicy* policy, size_t i, const SourceAnswer& answer, int64_t now_ms,
                  const RejectionSink& rejected) {
  const Status& s = answer.status;
  if (s.local()) return;  // not the source's doing
  if (answer.lacked > 0) policy->Lacked(i, answer.lacked);
  if (s.ok() || s.code() == StatusCode::kNotFound) {
    // An answer, complete or not: the source is up and honest.
    if (s.code() == StatusCode::kNotFound && answer.lacked == 0) policy->Lacked(i, 1);
    policy->Succeeded(i, answer.bytes, now_ms);
    return;
  }
  if (answer.bytes > 0) policy->Credit(i, answer.bytes);
  if (s.code() == StatusCode::kVerificationFailed && rejected) {
    rejected(policy->source(i).name + ": " + s.message());
  }
  policy->Failed(i, s, now_ms);
}

Result<size_t> AskSources(SourcePolicy* policy, Env* env, const AskFunction& ask,
                          const RejectionSink& rejected) {
  Status last = UnavailableError("no sources configured");
  bool all_lacked = true;
  for (size_t i : policy->Order(NowMs(env))) {
    const Source& src = policy->source(i);
    SourceAnswer answer = ask(i, src);
    if (answer.status.local()) return answer.status;
    RecordAnswer(policy, i, answer, NowMs(env), rejected);
    if (answer.status.ok() && answer.lacked == 0) return i;
    if (answer.status.ok()) {
      last = NotFoundError("lacked " + std::to_string(answer.lacked) + " objects");
    } else {
      last = answer.status;
    }
    if (last.code() != StatusCode::kNotFound) all_lacked = false;
    last = last.WithContext(src.name);
  }
  if (!all_lacked && last.code() == StatusCode::kNotFound) {
    last = UnavailableError(last.message());
  }
  return last;
}

}  // namespace tiersync::replication
