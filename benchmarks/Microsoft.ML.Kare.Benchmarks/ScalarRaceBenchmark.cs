using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// How often TorchSharp's implicit scalars are freed while libtorch reads them (<see cref="HeldScalars"/>): threads add
/// a number to a tensor, once with TorchSharp's operator (<c>x + s</c>, two implicit scalars) and once with
/// <see cref="HeldScalars.Plus(Tensor, double)"/>, while another thread collects garbage without pause; each result is
/// checked. Prints operations and failures (exceptions or wrong values) of each. Usage:
/// <c>--scalar-race [--seconds 20] [--threads 4]</c>.
/// </summary>
internal static class ScalarRaceBenchmark
{
    public static int Run(string[] args)
    {
        double seconds = double.Parse(CommandLine.Value(args, "--seconds") ?? "20", CultureInfo.InvariantCulture);
        int threads = int.Parse(CommandLine.Value(args, "--threads") ?? "4", CultureInfo.InvariantCulture);
        TorchRuntime.Initialize();
        foreach (bool held in new[] { false, true })
        {
            var (operations, failures, first) = Measure(held, seconds, threads);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(held ? "held scalars (HeldScalars.Plus)" : "implicit scalars (x + s)"),-34} {operations,9:N0} operations, {failures} failed{(first is null ? "" : ": " + first)}"));
        }
        return 0;
    }

    private static (long Operations, int Failures, string? First) Measure(bool held, double seconds, int threads)
    {
        long operations = 0;
        int failures = 0;
        string? first = null;
        using var collection = new ContinuousGarbageCollection();
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            using Tensor x = torch.ones(200, 200, dtype: ScalarType.Float64);
            while (DateTime.UtcNow < end)
            {
                try
                {
                    using var scope = torch.NewDisposeScope();
                    for (int i = 0; i < 100; i++)
                    {
                        double s = i * 0.5;
                        Tensor y = held ? x.Plus(s) : x + s;
                        double value = y[0, 0].item<double>();
                        if (value != 1 + s)
                            throw new InvalidOperationException($"1 + {s} gave {value}");
                    }
                    Interlocked.Add(ref operations, 100);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref first, e.Message.Split('\n')[0], null);
                }
            }
        });
        return (operations, failures, first);
    }
}
