using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Training;
using TorchSharp;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// One exact KARE step in kernel space and in parameter space on the same rows and network: median milliseconds of each
/// (interleaved, so load from other processes hits both alike), the parameter-space step's time split, the largest
/// relative difference of their gradients, and the flop ratio the fitter's path choice predicts; beside them the kernel
/// step with its n×n algebra in float32, its time and its gradient's largest relative difference from the float64 one.
/// Usage: <c>--path-step [--rows 800,2000,5000] [--features 10] [--widths 64] [--repeats 5]</c>.
/// </summary>
internal static class PathStepBenchmark
{
    public static int Run(string[] args)
    {
        int[] rowCounts = (CommandLine.List(args, "--rows") ?? new[] { "800", "2000", "5000" }).Select(int.Parse).ToArray();
        int features = int.Parse(CommandLine.Value(args, "--features") ?? "10", CultureInfo.InvariantCulture);
        int[] widths = (CommandLine.List(args, "--widths") ?? new[] { "64" }).Select(int.Parse).ToArray();
        int repeats = int.Parse(CommandLine.Value(args, "--repeats") ?? "5", CultureInfo.InvariantCulture);
        TorchRuntime.Initialize();
        var architecture = new KareNetworkArchitecture(features, widths, KareActivation.Gelu);
        Console.WriteLine($"Exact KARE step, kernel vs parameter space: d = {features}, widths [{string.Join(",", widths)}], P = {architecture.ParameterCount}, " +
                          $"{torch.get_num_threads()} threads, median of {repeats} after one warm-up.");
        Console.WriteLine("| n | kernel step ms | parameter step ms | kernel / parameter | predicted (flops) | parameter split ms: forward, J, JᵀJ / P×P solve / J·Q / autograd / update | max rel. gradient difference | float32 kernel step ms | float64 / float32 | float32 max rel. gradient difference |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in rowCounts)
        {
            var random = new Random(n);
            double[] x = Enumerable.Range(0, n * features).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            double[] y = Enumerable.Range(0, n).Select(i => Math.Sin(3 * x[i * features]) + 0.1 * random.NextDouble()).ToArray();
            using var rows = new RowSet(x, y, null, features, 1, Enumerable.Range(0, n).ToArray());
            using MlpNetwork kernelNetwork = MlpNetwork.Initialize(architecture, new Random(1));
            using MlpNetwork parameterNetwork = MlpNetwork.FromParameters(architecture, kernelNetwork.GetParameters());
            using MlpNetwork singleNetwork = MlpNetwork.FromParameters(architecture, kernelNetwork.GetParameters());
            using var singleOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, singleNetwork.Parameters, 1e-3);
            using var singleStep = new KareStepEngine { Precision = torch.ScalarType.Float32 };
            using var kernelOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, kernelNetwork.Parameters, 1e-3);
            using var parameterOptimizer = ParameterOptimizer.Create(KareOptimizer.Sgd, parameterNetwork.Parameters, 1e-3);
            using var kernelStep = new KareStepEngine();
            var profile = new KareStepProfile();
            using var parameterStep = new ParameterSpaceKareStep(parameterNetwork, parameterOptimizer, 0.1) { Profile = profile };
            double difference = GradientDifference(kernelNetwork, parameterNetwork,
                () => kernelStep.AccumulateGradient(kernelNetwork, rows, 0.1), () => parameterStep.AccumulateGradient(rows));
            double singleDifference = GradientDifference(kernelNetwork, singleNetwork,
                () => kernelStep.AccumulateGradient(kernelNetwork, rows, 0.1), () => singleStep.AccumulateGradient(singleNetwork, rows, 0.1));

            var kernelTimes = new List<double>();
            var parameterTimes = new List<double>();
            var singleTimes = new List<double>();
            for (int r = 0; r <= repeats; r++)
            {
                if (r == 1)
                    profile.Reset();
                double k = BenchmarkTiming.Milliseconds(() => kernelStep.Step(kernelNetwork, kernelOptimizer, rows, 0.1));
                double p = BenchmarkTiming.Milliseconds(() => parameterStep.Step(rows, batchIsFixed: true));
                double f = BenchmarkTiming.Milliseconds(() => singleStep.Step(singleNetwork, singleOptimizer, rows, 0.1));
                if (r == 0)
                    continue;
                kernelTimes.Add(k);
                parameterTimes.Add(p);
                singleTimes.Add(f);
            }
            double kernel = BenchmarkTiming.Median(kernelTimes), parameter = BenchmarkTiming.Median(parameterTimes), single = BenchmarkTiming.Median(singleTimes);
            double predicted = PathCosts.KernelStep(architecture, n) / PathCosts.ParameterStep(architecture, n);
            string split = string.Join(" / ", new[] { KareStepPhase.Kernel, KareStepPhase.Solve, KareStepPhase.KernelBackward, KareStepPhase.NetworkBackward, KareStepPhase.Update }
                .Select(phase => profile.MillisecondsPerStep(phase).ToString("F1", CultureInfo.InvariantCulture)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {kernel:F1} | {parameter:F1} | {kernel / parameter:F2} | {predicted:F2} | {split} | {difference:E1} | {single:F1} | {kernel / single:F2} | {singleDifference:E1} |"));
        }
        return 0;
    }

    /// <summary>max |g_expected − g_actual| / max |g_expected| at the networks' common starting point.</summary>
    private static double GradientDifference(MlpNetwork expectedNetwork, MlpNetwork actualNetwork, Action accumulateExpected, Action accumulateActual)
    {
        accumulateExpected();
        accumulateActual();
        double difference = 0, scale = 0;
        using var noGrad = torch.no_grad();
        for (int i = 0; i < expectedNetwork.Parameters.Count; i++)
        {
            if (expectedNetwork.Parameters[i].grad is not torch.Tensor expected || actualNetwork.Parameters[i].grad is not torch.Tensor actual)
                continue;
            scale = Math.Max(scale, expected.abs().max().item<double>());
            difference = Math.Max(difference, (expected - actual).abs().max().item<double>());
            expected.zero_();
            actual.zero_();
        }
        return difference / scale;
    }
}
