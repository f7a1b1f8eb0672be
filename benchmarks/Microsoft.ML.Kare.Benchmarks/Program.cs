using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// Times one KARE training step at the paper's settings on random standardised data, next to an n×n float64
/// matrix product measured in the same run: warm-up, then the median of k timed repetitions, the reference (autograd)
/// step and the optimised step interleaved so that load from other processes hits both alike.
/// Usage: [--settings simulation,mnist,wide] [--repeats k] [--threads t] [--no-baseline] [--no-solve-ops].
/// Other modes: <c>--scoring</c> (<see cref="ScoringBenchmark"/>: scoring speed next to FastTree) and
/// <c>--stochastic-accuracy</c> (<see cref="StochasticAccuracyBenchmark"/>: stochastic vs exact KARE gradient) and
/// <c>--diamonds</c> (<see cref="DiamondsBenchmark"/>: large-n training next to FastTree and SDCA) and
/// <c>--suite</c> (<see cref="Suite.SuiteBenchmark"/>: test metrics on the public suite next to its reference models) and
/// <c>--fit-time</c> (<see cref="Suite.FitTimeBenchmark"/>: default fits from 1,000 to 50,000 rows next to LightGBM).
/// </summary>
internal static class Program
{
    private sealed record Setting(string Name, int Rows, int Features, int Depth, int Width, double TargetMs);

    private static readonly Setting[] AllSettings =
    {
        new("simulation", 800, 10, 1, 64, 35),
        new("mnist", 1000, 576, 4, 128, 150),
        new("wide", 2000, 20, 3, 256, 900),
    };

    private const double RelativeRidge = 0.1;
    private const double LearningRate = 0.01;
    private const int StochasticProbes = 64; // the default of mini-batch training

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--scoring")
            return ScoringBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--stochastic-accuracy")
            return StochasticAccuracyBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--diamonds")
            return DiamondsBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--suite")
            return Suite.SuiteBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--fit-time")
            return Suite.FitTimeBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--path-step")
            return PathStepBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--held-out")
            return HeldOutBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--scalar-race")
            return ScalarRaceBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--collection-stress")
            return CollectionStressBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--simulation-check")
            return Suite.SimulationFeatureCheck.Run(args[1..]);
        if (args.Length > 0 && args[0] == "--cancel-latency")
            return Suite.CancelLatencyBenchmark.Run(args[1..]);
        var options = Options.Parse(args);
        TorchRuntime.Initialize(); // the process settings training runs with (OpenMP waiting, MKL reproducibility)
        torch.set_num_threads(options.Threads);
        Console.WriteLine($"KARE step benchmark: float64, CPU, {options.Threads} torch threads, {Environment.ProcessorCount} logical cores, " +
                          $"median of {options.Repeats} after {options.Warmup} warm-up step(s).");
        var rows = new List<string>();
        var splits = new List<string>();
        var solveRows = new List<string>();
        foreach (Setting setting in AllSettings.Where(s => options.Settings.Contains(s.Name)))
        {
            Console.WriteLine($"-- {setting.Name}: n = {setting.Rows}, d = {setting.Features}, {setting.Depth} × {setting.Width}");
            var result = Run(setting, options);
            rows.Add(result.Row);
            splits.Add(result.Split);
            if (options.SolveOps)
                solveRows.Add(SolveOperations(setting.Rows, options));
        }

        Console.WriteLine();
        Console.WriteLine($"| setting | n | d | depth × width | n×n matmul ms | baseline step ms (× matmul) | optimised step ms (× matmul) | target ms | speed-up | peak RSS MB baseline / optimised | managed KB/step baseline / optimised | max rel. gradient difference | stochastic step ms ({StochasticProbes} probes, not default) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (string row in rows)
            Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine("Optimised step split, median ms (× matmul):");
        Console.WriteLine();
        Console.WriteLine("| setting | forward + kernel | solve (Cholesky, A, A², dρ/dK) | kernel backward (G ⊙ Gram products) | network backward (autograd, n×width) | update |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (string split in splits)
            Console.WriteLine(split);
        if (solveRows.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("Dense float64 operations at each n, median ms (× matmul):");
            Console.WriteLine();
            Console.WriteLine($"| n | matmul A·B | addmm_ into buffer (A·A) | cholesky_ex | cholesky_inverse(L) | solve_triangular(L, I) | ‖L⁻¹‖²_F by column blocks | L⁻ᵀL⁻¹ by mm | linalg.inv (LU) | cholesky_solve (c = 1) | cholesky_solve (m = {StochasticProbes}) | solve_triangular (m = {StochasticProbes}) | rank-{StochasticProbes} update |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (string row in solveRows)
                Console.WriteLine(row);
        }
        return 0;
    }

    private static (string Row, string Split) Run(Setting setting, Options options)
    {
        int n = setting.Rows;
        int d = setting.Features;
        var random = new Random(42);
        double[] x = Standardised(Gaussian(n * d, random), n, d);
        double[] y = Standardised(Gaussian(n, random), n, 1);
        var architecture = new KareNetworkArchitecture(d, Enumerable.Repeat(setting.Width, setting.Depth).ToArray(), KareActivation.Gelu);
        using var rows = new RowSet(x, y, null, d, 1, Enumerable.Range(0, n).ToArray());

        using var reference = MlpNetwork.Initialize(architecture, new Random(7));
        using var optimised = MlpNetwork.FromParameters(architecture, reference.GetParameters());
        using var referenceOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, reference.Parameters, LearningRate);
        using var optimisedOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, optimised.Parameters, LearningRate);
        using var engine = new KareStepEngine();
        using var stochasticNetwork = MlpNetwork.FromParameters(architecture, reference.GetParameters());
        using var stochasticOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, stochasticNetwork.Parameters, LearningRate);
        using var stochasticEngine = new KareStepEngine { StochasticProbes = StochasticProbes };

        double gradientDifference = GradientDifference(reference, optimised, rows, engine);

        using var a = torch.randn(n, n, ScalarType.Float64);
        using var b = torch.randn(n, n, ScalarType.Float64);
        var matmul = new List<double>();
        var baseline = new List<double>();
        var step = new List<double>();
        var stochastic = new List<double>();
        var phases = Enum.GetValues<KareStepPhase>();
        var phaseTimes = phases.ToDictionary(p => p, _ => new List<double>());
        var profile = new KareStepProfile();
        for (int r = 0; r < options.Warmup + options.Repeats; r++)
        {
            bool timed = r >= options.Warmup;
            double mm = BenchmarkTiming.Milliseconds(() => { using var scope = torch.NewDisposeScope(); a.mm(b); });
            double baselineMs = options.Baseline ? BenchmarkTiming.Milliseconds(() => KareStepEngine.ReferenceStep(reference, referenceOptimizer, rows, RelativeRidge)) : double.NaN;
            profile.Reset();
            engine.Profile = profile;
            double stepMs = BenchmarkTiming.Milliseconds(() => engine.Step(optimised, optimisedOptimizer, rows, RelativeRidge));
            engine.Profile = null;
            double stochasticMs = BenchmarkTiming.Milliseconds(() => stochasticEngine.Step(stochasticNetwork, stochasticOptimizer, rows, RelativeRidge));
            if (!timed)
                continue;
            matmul.Add(mm);
            baseline.Add(baselineMs);
            step.Add(stepMs);
            stochastic.Add(stochasticMs);
            foreach (var phase in phases)
                phaseTimes[phase].Add(profile.MillisecondsPerStep(phase));
        }

        // Memory: peak resident set of a few steps of each path alone (the kernel's high-water mark is reset first),
        // and the managed bytes each step allocates.
        var (optimisedPeak, optimisedManaged) = Memory(() => engine.Step(optimised, optimisedOptimizer, rows, RelativeRidge));
        var (baselinePeak, baselineManaged) = options.Baseline
            ? Memory(() => KareStepEngine.ReferenceStep(reference, referenceOptimizer, rows, RelativeRidge))
            : (double.NaN, double.NaN);

        double m = BenchmarkTiming.Median(matmul);
        double baseMs = BenchmarkTiming.Median(baseline);
        double stepMedian = BenchmarkTiming.Median(step);
        string row = $"| {setting.Name} | {n} | {d} | {setting.Depth} × {setting.Width} | {F(m)} | {F(baseMs)} ({F2(baseMs / m)}) | " +
                     $"{F(stepMedian)} ({F2(stepMedian / m)}) | ≤ {setting.TargetMs} | {F2(baseMs / stepMedian)}× | " +
                     $"{F(baselinePeak)} / {F(optimisedPeak)} | {F(baselineManaged)} / {F(optimisedManaged)} | {gradientDifference:E1} | " +
                     $"{F(BenchmarkTiming.Median(stochastic))} ({F2(BenchmarkTiming.Median(stochastic) / m)}) |";
        string split = $"| {setting.Name} | " + string.Join(" | ", phases.Select(p => $"{F(BenchmarkTiming.Median(phaseTimes[p]))} ({F2(BenchmarkTiming.Median(phaseTimes[p]) / m)})")) + " |";
        Console.WriteLine(row);
        Console.WriteLine(split);
        return (row, split);
    }

    /// <summary>max |g_opt − g_ref| / max |g_ref| over all parameters, at the networks' common starting point.</summary>
    private static double GradientDifference(MlpNetwork reference, MlpNetwork optimised, RowSet rows, KareStepEngine engine)
    {
        KareStepEngine.ReferenceAccumulateGradient(reference, rows, RelativeRidge);
        engine.AccumulateGradient(optimised, rows, RelativeRidge);
        double difference = 0;
        double scale = 0;
        using (torch.no_grad())
        {
            for (int i = 0; i < reference.Parameters.Count; i++)
            {
                Tensor? expected = reference.Parameters[i].grad;
                Tensor? actual = optimised.Parameters[i].grad;
                if (expected is null || actual is null)
                    continue;
                scale = Math.Max(scale, expected.abs().max().item<double>());
                difference = Math.Max(difference, (expected - actual).abs().max().item<double>());
                expected.zero_();
                actual.zero_();
            }
        }
        return difference / scale;
    }

    private static string SolveOperations(int n, Options options)
    {
        using var scope = torch.NewDisposeScope();
        Tensor z = torch.randn(n, n, ScalarType.Float64);
        Tensor s = z.mm(z.t()).div_(n);
        s.diagonal().add_(0.1);
        Tensor l = torch.linalg.cholesky(s);
        Tensor inverse = l.cholesky_inverse();
        Tensor buffer = torch.empty(n, n, ScalarType.Float64);
        Tensor identity = torch.eye(n, dtype: ScalarType.Float64);
        Tensor w = torch.linalg.solve_triangular(l, identity, upper: false);
        Tensor rhs = torch.randn(n, 1, ScalarType.Float64);
        Tensor probes = torch.randn(n, StochasticProbes, ScalarType.Float64);
        Tensor solvedProbes = probes.cholesky_solve(l);
        var ops = new (string Name, Action Body)[]
        {
            ("matmul", () => { using var t = s.mm(z); }),
            ("addmm_", () => buffer.addmm_(inverse, inverse, 0f, 1f)),
            ("cholesky_ex", () => { var (f, info) = torch.linalg.cholesky_ex(s); f.Dispose(); info.Dispose(); }),
            ("cholesky_inverse", () => { using var t = l.cholesky_inverse(); }),
            ("solve_triangular", () => { using var t = torch.linalg.solve_triangular(l, identity, upper: false); }),
            ("inverse trace by blocks", () => Microsoft.ML.Kare.Solvers.CholeskyFactor.InverseTrace(l)),
            ("WᵀW", () => buffer.addmm_(w.t(), w, 0f, 1f)),
            ("inv", () => { using var t = torch.linalg.inv(s); }),
            ("cholesky_solve", () => { using var t = rhs.cholesky_solve(l); }),
            ("cholesky_solve m", () => { using var t = probes.cholesky_solve(l); }),
            ("triangular solve m", () => { using var t = torch.linalg.solve_triangular(l, probes, upper: false); }),
            ("rank m update", () => buffer.addmm_(solvedProbes, solvedProbes.t(), 0f, 1f)),
        };
        var times = ops.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < options.Warmup + options.Repeats; r++)
        {
            for (int i = 0; i < ops.Length; i++)
            {
                double ms = BenchmarkTiming.Milliseconds(ops[i].Body);
                if (r >= options.Warmup)
                    times[i].Add(ms);
            }
        }
        double m = BenchmarkTiming.Median(times[0]);
        return $"| {n} | " + string.Join(" | ", times.Select(t => $"{F(BenchmarkTiming.Median(t))} ({F2(BenchmarkTiming.Median(t) / m)})")) + " |";
    }

    private static (double PeakMegabytes, double ManagedKilobytesPerStep) Memory(Action step)
    {
        const int steps = 3;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        ResourceUse.ResetPeakResidentMemory();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < steps; i++)
            step();
        double managed = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0 / steps;
        return (ResourceUse.PeakResidentMegabytes(), managed);
    }

    private static double[] Gaussian(int count, Random random)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
            values[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return values;
    }

    private static double[] Standardised(double[] values, int rows, int columns)
    {
        var (means, scales) = Standardization.ColumnStatistics(values, rows, columns, null);
        return Standardization.Apply(values, rows, columns, means, scales);
    }

    private static string F(double value) => double.IsNaN(value) ? "–" : value.ToString(value < 10 ? "F1" : "F0", CultureInfo.InvariantCulture);

    private static string F2(double value) => double.IsNaN(value) ? "–" : value.ToString("F2", CultureInfo.InvariantCulture);

    private sealed record Options(HashSet<string> Settings, int Repeats, int Warmup, int Threads, bool Baseline, bool SolveOps)
    {
        public static Options Parse(string[] args)
        {
            var settings = new HashSet<string>(AllSettings.Select(s => s.Name));
            int repeats = 7;
            int warmup = 2;
            int threads = Math.Min(Environment.ProcessorCount, 2);
            bool baseline = true;
            bool solveOps = true;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--settings":
                        settings = new HashSet<string>(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries));
                        break;
                    case "--repeats":
                        repeats = int.Parse(args[++i], CultureInfo.InvariantCulture);
                        break;
                    case "--warmup":
                        warmup = int.Parse(args[++i], CultureInfo.InvariantCulture);
                        break;
                    case "--threads":
                        threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
                        break;
                    case "--no-baseline":
                        baseline = false;
                        break;
                    case "--no-solve-ops":
                        solveOps = false;
                        break;
                    default:
                        throw new ArgumentException($"Unknown argument {args[i]}.");
                }
            }
            return new Options(settings, repeats, warmup, threads, baseline, solveOps);
        }
    }
}
