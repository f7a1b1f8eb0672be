using System;
using System.Linq;
using System.Threading;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>Work run side by side: results in index order, really concurrent, and the work's own exceptions.</summary>
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
    public void TheWorksOwnExceptionReachesTheCaller()
    {
        Assert.ThrowsExactly<OperationCanceledException>(() => SideBySide.Run(4, 2, threads: 0, i => i == 2 ? throw new OperationCanceledException() : i));
        var error = Assert.ThrowsExactly<ArithmeticException>(() => SideBySide.Run(3, 1, threads: 0, i => i == 1 ? throw new ArithmeticException("fold 1") : i));
        Assert.AreEqual("fold 1", error.Message);
    }
}
