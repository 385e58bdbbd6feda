// examples/calc_pi.cpp: scenario S3's Monte Carlo pi (docs/scenarios.md §3), offloaded with to_thread.
// ctest-args: --samples 4000000 --jobs 8 --sweep-total 20 --rounds 3 --pause 20 --out calc_pi_test_output
// ctest-timeout: 120
//
// Run: ./calc_pi [--samples N] [--jobs M] [--sweep-total LOG2] [--rounds R] [--pause MS] [--no-sweep]
//                [--out DIR]
// Shows: to_thread for CPU-heavy work, gather over many offloaded calls, the real parallel speed-up
// (C++ has no GIL), and the lesson's efficiency sweep: njobs = 1, 2, 4 ... 4096 with
// njobs * jobsize = 2^25, written to calc_pi_overhead.csv and plotted (log-log) into
// calc_pi_overhead.svg with gnuplot, with the overhead per job it derives. The lesson measured about
// 0.1 ms per task with Python's asyncio.to_thread.
#include <asyncio/asyncio.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

/// The lesson's calc_pi(N): N random impacts in [-1, 1)^2, 4 * (inside the circle) / N.
/// Each call seeds its own generator (xoshiro-style splitmix64), so calls run independently.
auto calc_pi(std::int64_t n, std::uint64_t seed) -> double {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&s] {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::int64_t inside = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double x = static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0;
    double y = static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0;
    inside += (x * x + y * y < 1.0) ? 1 : 0;
  }
  return 4.0 * static_cast<double>(inside) / static_cast<double>(n);
}

/// The lesson's calc_pi_split(N, M): M offloaded calls of N samples, gathered, averaged.
auto calc_pi_split(std::int64_t n, std::int64_t m) -> asyncio::task<double> {
  std::vector<asyncio::task<double>> calls;
  calls.reserve(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) calls.push_back(asyncio::to_thread(calc_pi, n, static_cast<std::uint64_t>(i + 1)));
  std::vector<double> results = co_await asyncio::gather(std::move(calls));
  double sum = 0;
  for (double r : results) sum += r;
  co_return sum / static_cast<double>(m);
}

auto seconds_since(std::chrono::steady_clock::time_point t0) -> double {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct options {
  std::int64_t samples = 100'000'000;
  std::int64_t jobs = 10;
  int sweep_total_log2 = 25;
  int rounds = 5;
  int pause_ms = 300;
  bool sweep = true;
  std::string out = ".";
};

auto main_task(options opt) -> asyncio::task<int> {
  std::printf("calc_pi: %u hardware threads\n", std::thread::hardware_concurrency());
  (void)co_await asyncio::to_thread(calc_pi, std::int64_t{1000}, std::uint64_t{0});  // start the pool

  // Every timed run starts from an idle machine, as if each were its own program: the loop sleeps
  // --pause ms before it. On this project's 2-vCPU KVM guest a vCPU that halts for a moment right
  // after the 0.28 s single call (its worker parks, and the split wakes it microseconds later) runs
  // the next 50-450 ms up to 35 % slower: thread CPU time per job 33-38 ms instead of 28, raw
  // std::threads alike, no steal reported (bench/README.md "calc_pi: a host effect"). A run started
  // right after the other measured the host, not the split. Rounds also alternate which run goes
  // first, and the median of the rounds is reported.
  std::vector<double> speedups;
  double pi1 = 0, pi2 = 0;
  for (int round = 1; round <= opt.rounds; ++round) {
    double single = 0, split = 0;
    bool split_first = round % 2 == 0;
    for (int part = 0; part < 2; ++part) {
      if (opt.pause_ms > 0) co_await asyncio::sleep(std::chrono::milliseconds(opt.pause_ms));
      auto t0 = std::chrono::steady_clock::now();
      if ((part == 0) == split_first) {
        pi2 = co_await calc_pi_split(opt.samples / opt.jobs, opt.jobs);
        split = seconds_since(t0);
      } else {
        pi1 = co_await asyncio::to_thread(calc_pi, opt.samples, std::uint64_t{7});
        single = seconds_since(t0);
      }
    }
    speedups.push_back(single / split);
    std::printf("round %d (%s first): one to_thread call, %lld samples: %.3f s; %lld calls of %lld, gathered: "
                "%.3f s; speed-up %.2fx\n",
                round, split_first ? "split" : "single", static_cast<long long>(opt.samples), single,
                static_cast<long long>(opt.jobs), static_cast<long long>(opt.samples / opt.jobs), split,
                single / split);
  }
  std::printf("pi = %.6f (one call), %.6f (split)\n", pi1, pi2);
  std::sort(speedups.begin(), speedups.end());
  std::size_t mid = speedups.size() / 2;
  double median = speedups.size() % 2 ? speedups[mid] : (speedups[mid - 1] + speedups[mid]) / 2;
  std::printf("speed-up of the split: %.2fx (median of %d rounds, %d ms idle before each run)\n", median, opt.rounds,
              opt.pause_ms);
  if (std::fabs(pi1 - M_PI) > 0.01 || std::fabs(pi2 - M_PI) > 0.01) {
    std::printf("error: pi is off\n");
    co_return 1;
  }
  if (!opt.sweep) co_return 0;

  // The efficiency sweep: same total work, more and smaller jobs.
  std::filesystem::create_directories(opt.out);
  std::string csv_path = opt.out + "/calc_pi_overhead.csv";
  std::ofstream csv(csv_path);
  csv << "jobsize,njobs,time\n";
  std::int64_t total = std::int64_t{1} << opt.sweep_total_log2;
  std::vector<std::pair<double, double>> points;  // (njobs, seconds)
  std::printf("\n%10s %7s %10s\n", "jobsize", "njobs", "time (s)");
  for (std::int64_t njobs = 1; njobs <= 4096 && njobs <= total; njobs *= 2) {
    std::int64_t jobsize = total / njobs;
    auto t0 = std::chrono::steady_clock::now();
    (void)co_await calc_pi_split(jobsize, njobs);
    double t = seconds_since(t0);
    std::printf("%10lld %7lld %10.4f\n", static_cast<long long>(jobsize), static_cast<long long>(njobs), t);
    csv << jobsize << ',' << njobs << ',' << t << '\n';
    points.emplace_back(static_cast<double>(njobs), t);
  }
  csv.close();

  // Overhead per job: least-squares slope of time against njobs, over the runs that already use
  // every core (njobs >= hardware threads), where the work per core is constant.
  double hw = std::max(1u, std::thread::hardware_concurrency());
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (auto [x, y] : points) {
    if (x < hw) continue;
    sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
  }
  if (n >= 2) {
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    std::printf("\noverhead per job (slope of time vs njobs for njobs >= %.0f): %.2f us "
                "(the lesson measured about 100 us per task with Python's asyncio)\n",
                hw, slope * 1e6);
  }
  std::printf("wrote %s\n", csv_path.c_str());

  // The plot, like the lesson's plotnine figure (log-log time against njobs).
  std::string svg_path = opt.out + "/calc_pi_overhead.svg";
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::printf("gnuplot not found (Debian: apt-get install gnuplot-nox): skipping %s\n", svg_path.c_str());
    co_return 0;
  }
  std::string script = "set terminal svg size 640,400; set output '" + svg_path +
                       "'; set datafile separator ','; set logscale xy; set xlabel 'njobs'; "
                       "set ylabel 'time (s)'; set title 'calc_pi: njobs x jobsize = 2^" +
                       std::to_string(opt.sweep_total_log2) + "'; plot '" + csv_path +
                       "' every ::1 using 2:3 with linespoints title 'asyncio for C++ to_thread'";
  std::string cmd = "gnuplot -e \"" + script + "\"";
  if (std::system(cmd.c_str()) == 0) std::printf("wrote %s\n", svg_path.c_str());
  else std::printf("gnuplot failed; the data is in %s\n", csv_path.c_str());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--samples") opt.samples = std::stoll(value());
    else if (a == "--jobs") opt.jobs = std::stoll(value());
    else if (a == "--sweep-total") opt.sweep_total_log2 = std::stoi(value());
    else if (a == "--rounds") opt.rounds = std::stoi(value());
    else if (a == "--pause") opt.pause_ms = std::stoi(value());
    else if (a == "--no-sweep") opt.sweep = false;
    else if (a == "--out") opt.out = value();
    else {
      std::fprintf(stderr, "usage: %s [--samples N] [--jobs M] [--sweep-total LOG2] [--rounds R] [--pause MS] [--no-sweep] [--out DIR]\n", argv[0]);
      return 2;
    }
  }
  if (opt.jobs < 1 || opt.samples < opt.jobs || opt.rounds < 1 || opt.pause_ms < 0) return 2;
  return asyncio::run(main_task(opt));
}
