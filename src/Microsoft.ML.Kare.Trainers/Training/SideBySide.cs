using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;
using Microsoft.ML.Kare.LibTorch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Independent pieces of work on independent networks (cross-validation's fold runs, their measurements and final
/// fits) run side by side on the cores, each worker thread on the fit's libtorch thread count.
/// </summary>
internal static class SideBySide
{
    /// <summary>
    /// <paramref name="work"/>(0 … count − 1) on at most <paramref name="parallelism"/> threads, results in index order.
    /// An exception of the work reaches the caller as itself (not wrapped in an <see cref="AggregateException"/>), so a
    /// cancellation stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="count">Number of pieces of work.</param>
    /// <param name="parallelism">Most pieces at once (1: one after another).</param>
    /// <param name="threads">libtorch threads of each worker (OpenMP keeps the count per thread; each worker thread gets its own count back afterwards); ≤ 0 leaves it.</param>
    /// <param name="work">The piece of work of an index.</param>
    public static T[] Run<T>(int count, int parallelism, int threads, Func<int, T> work)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var results = new T[count];
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i =>
            {
                // The count stays with the thread (the caller's, or a pool thread's that later runs other work), so put it back.
                int previous = TorchSharp.torch.get_num_threads();
                TorchRuntime.MatchThreadCount(threads);
                try
                {
                    results[i] = work(i);
                }
                finally
                {
                    TorchRuntime.MatchThreadCount(previous);
                }
            });
        }
        catch (AggregateException aggregate) when (aggregate.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(aggregate.InnerExceptions[0]).Throw();
        }
        return results;
    }
}

/// <summary>
/// A fit's cancellation check shared by side-by-side workers: the calls reach the fit's check one at a time, and once it
/// has thrown, every later call throws without calling it again: a cancellation as a new
/// <see cref="OperationCanceledException"/> with the same token, any other failure as itself. So no check is made after
/// the one that cancelled the fit.
/// </summary>
internal sealed class SharedCancellationCheck(Action checkAlive)
{
    private readonly object _gate = new();
    private Exception? _failure;

    /// <summary>Calls the fit's check, or throws what one of the workers already met.</summary>
    public void CheckAlive()
    {
        lock (_gate)
        {
            if (_failure is OperationCanceledException cancelled)
                throw new OperationCanceledException(cancelled.Message, cancelled, cancelled.CancellationToken);
            if (_failure is not null)
                ExceptionDispatchInfo.Throw(_failure); // not a cancellation: the same failure for every worker
            try
            {
                checkAlive();
            }
            catch (Exception failure)
            {
                _failure = failure;
                throw;
            }
        }
    }
}
