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

SourceWalk::Verdict SourceWalk::Answer(SourcePolicy* policy, const SourceAnswer& answer,
                                       int64_t now_ms, const RejectionSink& rejected) {
  if (answer.status.local()) {
    last_ = answer.status;
    all_lacked_ = false;
    next_ = order_.size();
    return Verdict::kStop;
  }
  const size_t i = Current();
  RecordAnswer(policy, i, answer, now_ms, rejected);
  if (answer.status.ok() && answer.lacked == 0) return Verdict::kDone;
  last_ = answer.status.ok() ? NotFoundError("lacked " + std::to_string(answer.lacked) + " objects")
                             : answer.status;
  if (last_.code() != StatusCode::kNotFound) all_lacked_ = false;
  last_ = last_.WithContext(policy->source(i).name);
  ++next_;
  return Verdict::kNext;
}

Status SourceWalk::Failure() const {
  if (last_.local()) return last_;
  if (!all_lacked_ && last_.code() == StatusCode::kNotFound) {
    return UnavailableError(last_.message());
  }
  return last_;
}

Result<size_t> AskSources(SourcePolicy* policy, Env* env, const AskFunction& ask,
                          const RejectionSink& rejected) {
  SourceWalk walk(policy->Order(NowMs(env)));
  while (!walk.Exhausted()) {
    const size_t i = walk.Current();
    switch (walk.Answer(policy, ask(i, policy->source(i)), NowMs(env), rejected)) {
      case SourceWalk::Verdict::kDone:
        return i;
      case SourceWalk::Verdict::kStop:
        return walk.Failure();
      case SourceWalk::Verdict::kNext:
        break;
    }
  }
  return walk.Failure();
}

}  // namespace tiersync::replication
