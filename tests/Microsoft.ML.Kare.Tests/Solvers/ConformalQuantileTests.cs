using System;
using System.Linq;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Solvers;

/// <summary><see cref="ConformalQuantile"/> against its definition, counted directly, and against simulated coverage.</summary>
[TestClass]
public sealed class ConformalQuantileTests
{
    [TestMethod]
    [DataRow(9, 0.9, 9)]   // 0.9 · 10 = 9.000000000000002 in floating point: still rank 9
    [DataRow(19, 0.9, 18)]
    [DataRow(8, 0.9, 9)]   // rank above m: no finite bound
    [DataRow(99, 0.95, 95)]
    [DataRow(1, 0.5, 1)]
    public void RankIsTheCeilingOfCoverageTimesCountPlusOne(int count, double coverage, int expected)
        => Assert.AreEqual(expected, ConformalQuantile.Rank(count, coverage));

    [TestMethod]
    public void HalfWidthIsTheSmallestResidualThatBoundsEnoughResiduals()
    {
        var random = new Random(4);
        foreach (int m in new[] { 9, 10, 37, 200 })
        {
            foreach (double coverage in new[] { 0.5, 0.8, 0.9 })
            {
                double[] residuals = Enumerable.Range(0, m).Select(_ => Math.Round(random.NextDouble() * 5, 1)).ToArray(); // ties included
                double halfWidth = ConformalQuantile.HalfWidth(residuals, coverage);
                // Definition: the smallest q among the residuals with #{r ≤ q} ≥ c·(m + 1).
                double expected = residuals.Where(q => residuals.Count(r => r <= q) >= coverage * (m + 1) - 1e-9).DefaultIfEmpty(double.PositiveInfinity).Min();
                Assert.AreEqual(expected, halfWidth, $"m = {m}, coverage = {coverage}");
            }
        }
    }

    [TestMethod]
    public void TooFewResidualsGiveAnInfiniteHalfWidth()
    {
        Assert.AreEqual(double.PositiveInfinity, ConformalQuantile.HalfWidth(new[] { 1.0, 2.0, 3.0 }, 0.9));
        Assert.AreEqual(double.PositiveInfinity, ConformalQuantile.HalfWidth(Array.Empty<double>(), 0.5));
    }

    /// <summary>
    /// Exchangeable residuals: a new draw falls within the half-width of m others with probability ⌈c(m + 1)⌉/(m + 1),
    /// 18/20 = 0.9 for m = 19; 40,000 simulated trials (standard error 0.0015).
    /// </summary>
    [TestMethod]
    public void SimulatedCoverageMatchesTheConformalGuarantee()
    {
        var random = new Random(7);
        const int m = 19, trials = 40_000;
        int covered = 0;
        var residuals = new double[m];
        for (int t = 0; t < trials; t++)
        {
            for (int i = 0; i < m; i++)
                residuals[i] = Math.Abs(StandardNormal.Draw(random));
            if (Math.Abs(StandardNormal.Draw(random)) <= ConformalQuantile.HalfWidth(residuals, 0.9))
                covered++;
        }
        Assert.AreEqual(0.9, covered / (double)trials, 0.006);
    }

    [TestMethod]
    public void InvalidArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ConformalQuantile.HalfWidth(new[] { 1.0 }, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConformalQuantile.HalfWidth(new[] { 1.0 }, 0.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConformalQuantile.HalfWidth(new[] { 1.0 }, double.NaN));
        Assert.Throws<ArgumentException>(() => ConformalQuantile.HalfWidth(new[] { 1.0, double.NaN }, 0.5));
        Assert.Throws<ArgumentException>(() => ConformalQuantile.HalfWidth(new[] { -1.0 }, 0.5));
    }

}
