#include "offload/run_summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using offload::LatencyHistogram;
using offload::RunSummary;

// A strict parser for the JSON subset to_json can produce (objects, strings
// without escapes beyond \" and \\, numbers). It flattens the document into
// "a.b" -> raw value text and rejects anything malformed or duplicated.
class FlatJson {
public:
  static std::optional<std::map<std::string, std::string>> parse(std::string_view text) {
    FlatJson p(text);
    if (!p.object("")) return std::nullopt;
    p.skip_ws();
    if (p.pos_ != text.size()) return std::nullopt;
    return std::move(p.values_);
  }

private:
  explicit FlatJson(std::string_view text) : text_(text) {}

  void skip_ws() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (static_cast<unsigned char>(text_[pos_]) < 0x20) return std::nullopt;
      if (text_[pos_] == '\\') {
        if (++pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\\')) return std::nullopt;
      }
      out += text_[pos_++];
    }
    if (pos_ >= text_.size()) return std::nullopt;
    ++pos_;
    return out;
  }
  std::optional<std::string> number() {
    skip_ws();
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t d = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
      return pos_ > d;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (!digits()) return std::nullopt;
    // JSON forbids leading zeros ("01").
    if (text_[start + (text_[start] == '-' ? 1 : 0)] == '0' && pos_ - start > (text_[start] == '-' ? 2u : 1u))
      return std::nullopt;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return std::nullopt;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return std::nullopt;
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  bool object(const std::string& prefix) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    do {
      const auto key = string();
      if (!key || !eat(':')) return false;
      const std::string path = prefix.empty() ? *key : prefix + "." + *key;
      skip_ws();
      if (pos_ >= text_.size()) return false;
      if (text_[pos_] == '{') {
        if (!object(path)) return false;
        continue;
      }
      std::optional<std::string> value = text_[pos_] == '"' ? string() : number();
      if (!value || !values_.emplace(path, *value).second) return false;
    } while (eat(','));
    return eat('}');
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::map<std::string, std::string> values_;
};

TEST(FlatJson, RejectsMalformedDocuments) {
  EXPECT_TRUE(FlatJson::parse(R"({"a":1,"b":{"c":"x"}})").has_value());
  EXPECT_FALSE(FlatJson::parse(R"({"a":1,})").has_value());
  EXPECT_FALSE(FlatJson::parse(R"({"a":1})"
                               "}")
                   .has_value());
  EXPECT_FALSE(FlatJson::parse(R"({"a":01})").has_value());
  EXPECT_FALSE(FlatJson::parse(R"({"a":nan})").has_value());
  EXPECT_FALSE(FlatJson::parse(R"({"a":1,"a":2})").has_value());
  EXPECT_FALSE(FlatJson::parse(R"({"a":"x)").has_value());
}

double relative_error(std::uint64_t got, std::uint64_t want) {
  return std::abs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
}

TEST(LatencyHistogram, EmptyIsZero) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max_ns(), 0u);
  EXPECT_EQ(h.quantile_ns(0.0), 0u);
  EXPECT_EQ(h.quantile_ns(0.5), 0u);
  EXPECT_EQ(h.quantile_ns(1.0), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 10; ++v) h.record(v);
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.quantile_ns(0.5), 5u);
  EXPECT_EQ(h.quantile_ns(0.9), 9u);
  EXPECT_EQ(h.quantile_ns(1.0), 10u);
  EXPECT_EQ(h.quantile_ns(0.0), 1u);
}

TEST(LatencyHistogram, QuantilesOfAUniformRampWithinTwoPercent) {
  // 1..100000 us: the value at quantile q is q * 100000 us.
  LatencyHistogram h;
  constexpr std::uint64_t kN = 100'000;
  for (std::uint64_t i = 1; i <= kN; ++i) h.record(i * 1000);
  ASSERT_EQ(h.count(), kN);
  for (const double q : {0.01, 0.10, 0.25, 0.50, 0.90, 0.99, 0.999}) {
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(kN)) * 1000;
    EXPECT_LT(relative_error(h.quantile_ns(q), want), 0.02) << "q=" << q << " got " << h.quantile_ns(q);
  }
}

TEST(LatencyHistogram, QuantilesOfShuffledWideRangeData) {
  // Values spread over six decades, recorded in random order.
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 100; v < 100'000'000; v = v * 101 / 100 + 1) values.push_back(v);
  std::vector<std::uint64_t> shuffled = values;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(99));
  LatencyHistogram h;
  for (const std::uint64_t v : shuffled) h.record(v);
  for (const double q : {0.1, 0.5, 0.9, 0.99}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    const std::uint64_t want = values[rank - 1];
    EXPECT_LT(relative_error(h.quantile_ns(q), want), 0.02) << "q=" << q;
  }
}

TEST(LatencyHistogram, BimodalQuantiles) {
  LatencyHistogram h;
  for (int i = 0; i < 900; ++i) h.record(50'000);      // 50 us
  for (int i = 0; i < 100; ++i) h.record(20'000'000);  // 20 ms
  EXPECT_LT(relative_error(h.quantile_ns(0.5), 50'000), 0.02);
  EXPECT_LT(relative_error(h.quantile_ns(0.9), 50'000), 0.02);
  EXPECT_LT(relative_error(h.quantile_ns(0.91), 20'000'000), 0.02);
  EXPECT_LT(relative_error(h.quantile_ns(0.99), 20'000'000), 0.02);
}

TEST(LatencyHistogram, MaxIsExact) {
  LatencyHistogram h;
  h.record(1'000);
  h.record(123'456'789);
  h.record(5'000);
  EXPECT_EQ(h.max_ns(), 123'456'789u);
  // The top quantile never reports more than was recorded.
  EXPECT_LE(h.quantile_ns(1.0), 123'456'789u);
  EXPECT_LT(relative_error(h.quantile_ns(1.0), 123'456'789), 0.02);
}

TEST(LatencyHistogram, SingleValueIsReportedForEveryQuantile) {
  LatencyHistogram h;
  h.record(777'777);
  for (const double q : {0.0, 0.5, 0.999, 1.0}) EXPECT_LT(relative_error(h.quantile_ns(q), 777'777), 0.02);
  EXPECT_EQ(h.max_ns(), 777'777u);
}

TEST(LatencyHistogram, HandlesExtremeValues) {
  LatencyHistogram h;
  h.record(0);
  h.record(UINT64_MAX);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.max_ns(), UINT64_MAX);
  EXPECT_EQ(h.quantile_ns(0.5), 0u);
  EXPECT_LT(relative_error(h.quantile_ns(1.0), UINT64_MAX), 0.02);
}

TEST(LatencyHistogram, QuantileArgumentIsClamped) {
  LatencyHistogram h;
  h.record(10);
  h.record(20);
  EXPECT_EQ(h.quantile_ns(-1.0), h.quantile_ns(0.0));
  EXPECT_EQ(h.quantile_ns(2.0), h.quantile_ns(1.0));
}

RunSummary sample_summary() {
  RunSummary s;
  s.program = "threadsim";
  s.jobs = 100;
  s.ok = 97;
  s.failed = 2;
  s.pending = 1;
  s.wall_s = 0.5;
  s.cpu_s = 0.125;
  for (std::uint64_t i = 1; i <= 1000; ++i) s.latency.record(i * 1000);  // 1..1000 us
  return s;
}

TEST(RunSummary, ThroughputCountsFinishedJobsOverWallTime) {
  const RunSummary s = sample_summary();
  EXPECT_DOUBLE_EQ(s.throughput_jobs_per_s(), (97.0 + 2.0) / 0.5);
  RunSummary zero;
  zero.ok = 5;
  EXPECT_EQ(zero.throughput_jobs_per_s(), 0.0);  // no wall time yet: no division by zero
}

TEST(RunSummary, JsonIsOneValidLineWithEveryKey) {
  const RunSummary s = sample_summary();
  const std::string json = s.to_json();
  EXPECT_EQ(json.find('\n'), std::string::npos);
  const auto parsed = FlatJson::parse(json);
  ASSERT_TRUE(parsed.has_value()) << json;
  const auto& v = *parsed;
  for (const char* key : {"program", "jobs", "inflight", "ok", "failed", "pending", "wall_s", "cpu_s",
                          "throughput_jobs_per_s", "latency_us.p50", "latency_us.p90", "latency_us.p99",
                          "latency_us.p999", "latency_us.max"})
    EXPECT_EQ(v.count(key), 1u) << "missing " << key << " in " << json;
  EXPECT_EQ(v.size(), 14u) << json;  // "notify" only when the program has one

  EXPECT_EQ(v.at("program"), "threadsim");
  EXPECT_EQ(v.at("jobs"), "100");
  EXPECT_EQ(v.at("ok"), "97");
  EXPECT_EQ(v.at("failed"), "2");
  EXPECT_EQ(v.at("pending"), "1");
  EXPECT_DOUBLE_EQ(std::strtod(v.at("wall_s").c_str(), nullptr), 0.5);
  EXPECT_DOUBLE_EQ(std::strtod(v.at("cpu_s").c_str(), nullptr), 0.125);
  EXPECT_DOUBLE_EQ(std::strtod(v.at("throughput_jobs_per_s").c_str(), nullptr), 198.0);
  EXPECT_NEAR(std::strtod(v.at("latency_us.p50").c_str(), nullptr), 500.0, 10.0);
  EXPECT_NEAR(std::strtod(v.at("latency_us.p90").c_str(), nullptr), 900.0, 18.0);
  EXPECT_NEAR(std::strtod(v.at("latency_us.p99").c_str(), nullptr), 990.0, 19.8);
  EXPECT_NEAR(std::strtod(v.at("latency_us.p999").c_str(), nullptr), 999.0, 19.98);
  EXPECT_DOUBLE_EQ(std::strtod(v.at("latency_us.max").c_str(), nullptr), 1000.0);
}

TEST(RunSummary, JsonOfAnEmptyRunIsValid) {
  RunSummary s;
  s.program = "frontend";
  const auto parsed = FlatJson::parse(s.to_json());
  ASSERT_TRUE(parsed.has_value()) << s.to_json();
  EXPECT_EQ(parsed->at("latency_us.p50"), "0.0");
  EXPECT_EQ(parsed->at("throughput_jobs_per_s"), "0.0");
}

TEST(RunSummary, TextNamesCountsAndPending) {
  const std::string text = sample_summary().to_text();
  EXPECT_NE(text.find("100 jobs: 97 ok, 2 failed, 1 still pending"), std::string::npos) << text;
  EXPECT_NE(text.find("198 jobs/s"), std::string::npos) << text;
  EXPECT_NE(text.find("max 1000.0 us"), std::string::npos) << text;
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');

  RunSummary done;
  done.jobs = 1;
  done.ok = 1;
  done.wall_s = 1.0;
  const std::string plain = done.to_text();
  EXPECT_EQ(plain.find("pending"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("latency"), std::string::npos) << plain;  // nothing recorded
}

TEST(RunSummary, NapsAreSaidOnlyWhenThereWereSome) {
  RunSummary s = sample_summary();
  EXPECT_EQ(s.to_json().find("naps"), std::string::npos);
  EXPECT_EQ(s.to_text().find("nap"), std::string::npos);
  s.naps = 42;
  const auto parsed = FlatJson::parse(s.to_json());
  ASSERT_TRUE(parsed.has_value()) << s.to_json();
  EXPECT_EQ(parsed->at("naps"), "42");
  EXPECT_NE(s.to_text().find("waited for completions in 42 nap(s)"), std::string::npos) << s.to_text();
}

TEST(RunSummary, ProcessCpuSecondsIsNonNegativeAndMonotonic) {
  const double a = offload::process_cpu_seconds();
  volatile std::uint64_t sink = 0;
  for (std::uint64_t i = 0; i < 1'000'000; ++i) sink = sink + i;
  const double b = offload::process_cpu_seconds();
  EXPECT_GE(a, 0.0);
  EXPECT_GE(b, a);
}

}  // namespace
