using System;
using System.Threading;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.LibTorch;

/// <summary>
/// Runs one libtorch call that cannot stop part-way (LAPACK's symmetric eigendecomposition of thousands of rows takes
/// seconds) so that the fit around it can still be cancelled within a second: the call runs on a worker thread, on the
/// caller's libtorch thread count, while the caller checks for cancellation every <see cref="CheckInterval"/>. A
/// cancelled caller returns at once; the call runs to its end in the background and its result is freed there, and the
/// next fit in the process waits for it (<see cref="TorchRuntime.BeginFit"/>), so fits still never compute side by side.
/// </summary>
internal static class CancellableNativeCall
{
    /// <summary>How often the waiting caller checks for cancellation.</summary>
    internal static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(50);

    private static readonly object PendingLock = new();
    private static Task _pending = Task.CompletedTask;

    /// <summary>Completes when every call left behind by a cancelled caller has ended and freed its result.</summary>
    internal static Task Pending
    {
        get
        {
            lock (PendingLock)
                return _pending;
        }
    }

    /// <summary>
    /// <paramref name="call"/>(<paramref name="input"/>) on a worker thread, waited for with <paramref name="checkAlive"/>
    /// every <see cref="CheckInterval"/>. The worker reads the input through its own handle, so the caller may dispose
    /// <paramref name="input"/> as soon as this returns or throws. The result's tensors are new handles in the caller's
    /// dispose scope, as if the call had run here; an exception of the call reaches the caller as itself.
    /// </summary>
    /// <param name="input">The tensor the call reads (not modified).</param>
    /// <param name="call">One libtorch operation; it returns new tensors and makes no scalars.</param>
    /// <param name="checkAlive">Throws when the fit is cancelled.</param>
    public static (Tensor First, Tensor Second) Run(Tensor input, Func<Tensor, (Tensor First, Tensor Second)> call, Action checkAlive)
    {
        int threads = torch.get_num_threads();
        Tensor own = input.detach().DetachFromDisposeScope();
        Task<(Tensor First, Tensor Second)> task;
        try
        {
            task = Task.Factory.StartNew(() =>
            {
                using (own)
                {
                    TorchRuntime.MatchThreadCount(threads);
                    using var noGrad = torch.no_grad();
                    return call(own);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch
        {
            own.Dispose();
            throw;
        }
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CheckInterval))
        {
            try
            {
                checkAlive();
            }
            catch
            {
                LeaveBehind(task);
                throw;
            }
        }
        var (first, second) = task.GetAwaiter().GetResult(); // the call's own exception, unwrapped
        using (first)
        using (second)
            return (first.detach(), second.detach()); // handles made on this thread join its dispose scope
    }

    /// <summary>Frees the result of a call whose caller has gone, once it ends, and makes the next fit wait for that.</summary>
    private static void LeaveBehind(Task<(Tensor First, Tensor Second)> task)
    {
        Task freed = task.ContinueWith(t =>
        {
            if (t.Status == TaskStatus.RanToCompletion)
            {
                t.Result.First.Dispose();
                t.Result.Second.Dispose();
            }
            else
            {
                _ = t.Exception; // observed: nobody is left to receive it
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        lock (PendingLock)
            _pending = Task.WhenAll(_pending, freed);
    }
}
