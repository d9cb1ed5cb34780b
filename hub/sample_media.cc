#include "hub/sample_media.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "base/random.h"

namespace tiersync::hub {
namespace {

constexpr size_t kBlock = 1 << 20;

// Words of a lesson page; the generator strings them into sentences.
constexpr std::array<std::string_view, 40> kWords = {"国家智慧教育平台",
                                                     "课程教学",
                                                     "人教版",
                                                     "北师大版",
                                                     "数学",
                                                     "语文",
                                                     "英语",
                                                     "物理",
                                                     "化学",
                                                     "生物",
                                                     "历史",
                                                     "地理",
                                                     "道德与法治",
                                                     "第一单元",
                                                     "第二课",
                                                     "练习",
                                                     "例题",
                                                     "同学们",
                                                     "老师",
                                                     "实验",
                                                     "观察",
                                                     "思考",
                                                     "讨论",
                                                     "总结",
                                                     "课后服务",
                                                     "专题教育",
                                                     "lesson",
                                                     "textbook",
                                                     "exercise",
                                                     "chapter",
                                                     "student",
                                                     "teacher",
                                                     "video",
                                                     "answer",
                                                     "question",
                                                     "grade",
                                                     "volume",
                                                     "page",
                                                     "figure",
                                                     "example"};
constexpr std::array<std::string_view, 4> kPunct = {"，", "。", " ", "\n"};

// Appends `token` if it fits in `n` bytes; otherwise pads with spaces to exactly `n` (so a
// block never ends inside a multi-byte UTF-8 character).
bool AppendToken(std::vector<uint8_t>* out, size_t n, std::string_view token) {
  if (out->size() + token.size() > n) {
    out->resize(n, ' ');
    return false;
  }
  out->insert(out->end(), token.begin(), token.end());
  return true;
}

void FillText(Random* rng, std::vector<uint8_t>* out, size_t n) {
  out->clear();
  for (;;) {
    if (!AppendToken(out, n, kWords[rng->Uniform(kWords.size())])) return;
    if (rng->OneIn(3) && !AppendToken(out, n, std::to_string(rng->Uniform(1000)))) return;
    if (!AppendToken(out, n, kPunct[rng->Uniform(kPunct.size())])) return;
  }
}

}  // namespace

std::optional<SampleKind> ParseSampleKind(std::string_view name) {
  if (name == "media") return SampleKind::kMedia;
  if (name == "text") return SampleKind::kText;
  return std::nullopt;
}

Status GenerateSample(SampleKind kind, uint64_t size, uint64_t seed,
                      const std::function<Status(ByteSpan)>& sink) {
  Random rng(seed);
  std::vector<uint8_t> block;
  for (uint64_t done = 0; done < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, size - done));
    if (kind == SampleKind::kMedia) {
      block.resize(n);
      rng.Fill(block);
    } else {
      FillText(&rng, &block, n);
    }
    TS_RETURN_IF_ERROR(sink(block));
    done += n;
  }
  return Status::Ok();
}

}  // namespace tiersync::hub
