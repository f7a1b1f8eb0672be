using System;
using System.Linq;
using System.Threading;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>Work run side by side: results in index order, really concurrent, each worker's libtorch thread count, and the work's own exceptions.</summary>
[TestClass]
public sealed class SideBySideTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void ResultsComeInIndexOrder(int parallelism)
    {
        int[] results = SideBySide.Run(7, parallelism, threads: 0, i => { Thread.Sleep(7 - i); return i * i; });
        CollectionAssert.AreEqual(Enumerable.Range(0, 7).Select(i => i * i).ToArray(), results);
    }

    [TestMethod]
    public void TwoPiecesRunAtOnceWhenParallelismAllowsIt()
    {
        // Each piece waits until both have started: this finishes only if they overlap.
        using var bothStarted = new CountdownEvent(2);
        bool[] overlapped = SideBySide.Run(2, 2, threads: 0, _ =>
        {
            bothStarted.Signal();
            return bothStarted.Wait(TimeSpan.FromSeconds(10));
        });
        Assert.IsTrue(overlapped.All(o => o));
    }

    [TestMethod]
    public void EachWorkerRunsOnTheGivenThreadCountAndGetsItsOwnBack()
    {
        // A fresh thread with two libtorch threads runs the work itself (parallelism 1): before the count was put back,
        // it kept the workers' single thread, and so would any pool thread for the next fit that ran on it.
        int[]? during = null;
        int after = 0, caller = 0, first = 0, matched = 0;
        var thread = new Thread(() =>
        {
            TorchRuntime.Initialize();
            first = torch.get_num_threads();
            TorchRuntime.MatchThreadCount(2);
            matched = torch.get_num_threads();
            caller = Environment.CurrentManagedThreadId;
            during = SideBySide.Run(3, 1, 1, _ => Environment.CurrentManagedThreadId == caller ? torch.get_num_threads() : -1);
            after = torch.get_num_threads();
        });
        thread.Start();
        thread.Join();
        CollectionAssert.AreEqual(new[] { 1, 1, 1 }, during, "the work ran on the calling thread with one libtorch thread");
        Assert.AreEqual(2, after, $"the calling thread has its two threads back (it had {first} at first, {matched} when set to 2)");
    }

    [TestMethod]
    public void TheWorksOwnExceptionReachesTheCaller()
    {
        Assert.ThrowsExactly<OperationCanceledException>(() => SideBySide.Run(4, 2, threads: 0, i => i == 2 ? throw new OperationCanceledException() : i));
        var error = Assert.ThrowsExactly<ArithmeticException>(() => SideBySide.Run(3, 1, threads: 0, i => i == 1 ? throw new ArithmeticException("fold 1") : i));
        Assert.AreEqual("fold 1", error.Message);
    }

    [TestMethod]
    public void ASharedCheckCallsTheFitsCheckOneAtATimeAndNeverAfterItHasCancelled()
    {
        int calls = 0, inside = 0, overlaps = 0;
        var check = new SharedCancellationCheck(() =>
        {
            if (Interlocked.Increment(ref inside) > 1)
                Interlocked.Increment(ref overlaps);
            int call = ++calls;
            Thread.SpinWait(200);
            Interlocked.Decrement(ref inside);
            if (call == 500)
                throw new OperationCanceledException("cancelled at call 500");
        });
        int[] cancelled = SideBySide.Run(4, 4, threads: 0, _ =>
        {
            int thrown = 0;
            for (int i = 0; i < 1000; i++)
            {
                try
                {
                    check.CheckAlive();
                }
                catch (OperationCanceledException)
                {
                    thrown++;
                }
            }
            return thrown;
        });
        Assert.AreEqual(500, calls, "the fit's check is called until it cancels, and never after");
        Assert.AreEqual(0, overlaps, "one call at a time");
        Assert.AreEqual(4000 - 499, cancelled.Sum(), "every call from the cancelling one on throws");
    }

    [TestMethod]
    public void ASharedCheckKeepsTheCancellationTokenAndRethrowsOtherFailures()
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        var cancelling = new SharedCancellationCheck(() => source.Token.ThrowIfCancellationRequested());
        Assert.ThrowsExactly<OperationCanceledException>(cancelling.CheckAlive);
        var later = Assert.ThrowsExactly<OperationCanceledException>(cancelling.CheckAlive);
        Assert.AreEqual(source.Token, later.CancellationToken, "a later call carries the token that cancelled");

        var failure = new InvalidOperationException("not a cancellation");
        var failing = new SharedCancellationCheck(() => throw failure);
        Assert.AreSame(failure, Assert.ThrowsExactly<InvalidOperationException>(failing.CheckAlive));
        Assert.AreSame(failure, Assert.ThrowsExactly<InvalidOperationException>(failing.CheckAlive), "a later call throws the same failure");
    }
}
