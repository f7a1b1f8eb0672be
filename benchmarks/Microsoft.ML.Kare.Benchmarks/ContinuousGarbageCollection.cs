using System;
using System.Threading;

namespace Microsoft.ML.Kare.Benchmarks;

/// <summary>
/// A thread that collects garbage and runs the finalizers without pause until disposed, so that any native object left
/// to a finalizer is freed as early as it can be (<see cref="ScalarRaceBenchmark"/>, <see cref="CollectionStressBenchmark"/>).
/// </summary>
internal sealed class ContinuousGarbageCollection : IDisposable
{
    private readonly Thread _collector;
    private volatile bool _stop;

    public ContinuousGarbageCollection()
    {
        _collector = new Thread(() =>
        {
            while (!_stop)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        _collector.Start();
    }

    public void Dispose()
    {
        _stop = true;
        _collector.Join();
    }
}
