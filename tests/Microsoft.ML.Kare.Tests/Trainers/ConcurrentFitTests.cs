using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// Two fits at once in one process, of sizes that train on different libtorch thread counts (a process-wide setting):
/// each gives exactly the model it gives alone.
/// </summary>
[TestClass]
public sealed class ConcurrentFitTests
{
    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void TwoFitsAtOnceEachEqualTheSameFitAlone()
    {
        // 300 rows train on one thread (steps of at most 512 rows), 800 rows on libtorch's default.
        var small = Options(300);
        var large = Options(800);
        var (smallAlone, largeAlone) = (Fit(small), Fit(large));
        var together = new[] { Task.Run(() => Fit(small)), Task.Run(() => Fit(large)) };
        Task.WaitAll(together);
        CollectionAssert.AreEqual(smallAlone.Parameters, together[0].Result.Parameters, "the small fit's θ");
        CollectionAssert.AreEqual(smallAlone.Weights, together[0].Result.Weights, "the small fit's β");
        CollectionAssert.AreEqual(largeAlone.Parameters, together[1].Result.Parameters, "the large fit's θ");
        CollectionAssert.AreEqual(largeAlone.Weights, together[1].Result.Weights, "the large fit's β");
    }

    private static (int Rows, KareRegressionTrainer.Options Options) Options(int rows)
        => (rows, new KareRegressionTrainer.Options { NumberOfEpochs = 4, HiddenLayerWidths = new[] { 8 }, Seed = 5 });

    private static (double[] Parameters, double[] Weights) Fit((int Rows, KareRegressionTrainer.Options Options) setup)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(KareRegressionTrainerPipelineTests.VectorRow.Generate(setup.Rows, seed: setup.Rows));
        var model = mlContext.Regression.Trainers.Kare(setup.Options).Fit(data).Model;
        return (model.NetworkParameters.ToArray(), model.PrimalWeights.ToArray());
    }
}
