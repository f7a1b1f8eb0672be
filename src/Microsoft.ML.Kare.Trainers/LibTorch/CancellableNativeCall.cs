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
/// cancelled caller returns at once; the call runs to its end and frees its result there. The next fit in the process
/// waits for it (<see cref="TorchRuntime.BeginFit"/>), and so does the process's exit: the worker is a foreground
/// thread, so libtorch is never unloaded under a running call.
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
        var work = new Work(input.detach().DetachFromDisposeScope(), call, torch.get_num_threads());
        try
        {
            work.Start();
            while (!((IAsyncResult)work.Result).AsyncWaitHandle.WaitOne(CheckInterval))
                checkAlive();
        }
        catch
        {
            LeaveBehind(work);
            throw;
        }
        var (first, second) = work.Result.GetAwaiter().GetResult(); // the call's own exception, unwrapped
        using (first)
        using (second)
            return (first.detach(), second.detach()); // handles made on this thread join its dispose scope
    }

    /// <summary>
    /// Marks the work as no longer wanted (a worker that has not begun skips the call), frees its result once it ends,
    /// and makes the next fit wait for that.
    /// </summary>
    private static void LeaveBehind(Work work)
    {
        work.Abandon();
        Task freed = work.Result.ContinueWith(t =>
        {
            if (t.Status == TaskStatus.RanToCompletion)
            {
                t.Result.First?.Dispose();
                t.Result.Second?.Dispose();
            }
            else
            {
                _ = t.Exception; // observed: nobody is left to receive it
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        lock (PendingLock)
            _pending = Task.WhenAll(_pending, freed);
    }

    /// <summary>One call on its own foreground thread; <see cref="Result"/> completes when the thread ends it.</summary>
    private sealed class Work(Tensor input, Func<Tensor, (Tensor First, Tensor Second)> call, int threads)
    {
        private readonly TaskCompletionSource<(Tensor First, Tensor Second)> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Thread? _thread;
        private int _abandoned;

        public Task<(Tensor First, Tensor Second)> Result => _result.Task;

        public void Start()
        {
            _thread = new Thread(Execute) { IsBackground = false, Name = "KARE eigendecomposition" };
            try
            {
                _thread.Start();
            }
            catch (Exception e)
            {
                input.Dispose();
                _result.TrySetException(e);
                throw;
            }
        }

        public void Abandon()
        {
            Interlocked.Exchange(ref _abandoned, 1);
            if (_thread is null)
            {
                input.Dispose();
                _result.TrySetResult(default); // never started: nothing to free
            }
        }

        private void Execute()
        {
            try
            {
                using (input)
                {
                    if (Volatile.Read(ref _abandoned) != 0)
                    {
                        _result.TrySetResult(default); // the caller left before the call began: skip it
                        return;
                    }
                    // Only now, for a call still wanted, so that a late worker never changes a count the fit has restored.
                    TorchRuntime.MatchThreadCount(threads);
                    using var noGrad = torch.no_grad();
                    _result.TrySetResult(call(input));
                }
            }
            catch (Exception e)
            {
                _result.TrySetException(e);
            }
        }
    }
}
