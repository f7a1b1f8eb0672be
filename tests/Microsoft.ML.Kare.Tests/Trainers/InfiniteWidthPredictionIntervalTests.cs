using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// Prediction intervals of the infinite-width NTK trainer: calibrated on exact leave-one-out residuals, checked against
/// n refits that each leave one row out; their columns, coverage, save and load.
/// </summary>
[TestClass]
public sealed class InfiniteWidthPredictionIntervalTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void HalfWidthIsTheConformalQuantileOfResidualsFromRefitsWithoutEachRow()
    {
        const int n = 40;
        var mlContext = new MLContext(seed: 0);
        PredictionIntervalTests.Row[] rows = PredictionIntervalTests.Row.Generate(n, seed: 2);
        var model = mlContext.Regression.Trainers.InfiniteWidthNtk().Fit(mlContext.Data.LoadFromEnumerable(rows)).Model;
        KarePredictionInterval interval = model.PredictionInterval!;
        Assert.AreEqual(KareIntervalCalibration.LeaveOneOut, interval.Calibration);
        Assert.AreEqual(n, interval.CalibrationRowCount);

        // Independently: the model's standardised inputs and the kernel, then n ridge regressions each without one row
        // (with the model's λ and the same nλ shift, as leave-one-out of one fixed regression has).
        int d = rows[0].Features.Length;
        var kernel = new InfiniteWidthNtk(model.Activation, model.NumberOfHiddenLayers, model.WeightStandardDeviation, model.BiasStandardDeviation);
        double[] inputs = model.TrainingInputs.ToArray();
        var theta = Matrix<double>.Build.DenseOfRowMajor(n, n, kernel.Ntk(kernel.Prepare(inputs, n, d), kernel.Prepare(inputs, n, d)));
        double[] labels = rows.Select(r => (double)r.Label).ToArray();
        double mean = labels.Average(), scale = Math.Sqrt(labels.Select(y => (y - mean) * (y - mean)).Sum() / n);
        var residuals = new double[n];
        for (int i = 0; i < n; i++)
        {
            int[] others = Enumerable.Range(0, n).Where(j => j != i).ToArray();
            var k = Matrix<double>.Build.Dense(n - 1, n - 1, (a, b) => theta[others[a], others[b]]) + n * model.Ridge * Matrix<double>.Build.DenseIdentity(n - 1);
            var y = Vector<double>.Build.Dense(others.Select(j => (labels[j] - mean) / scale).ToArray());
            Vector<double> alpha = k.Solve(y);
            double prediction = others.Select((j, a) => theta[i, j] * alpha[a]).Sum();
            residuals[i] = Math.Abs((labels[i] - mean) / scale - prediction) * scale;
        }
        Array.Sort(residuals);
        double expected = residuals[(int)Math.Ceiling(0.9 * (n + 1)) - 1];
        TestContext.WriteLine($"half-width {interval.HalfWidth:G10}, from refits {expected:G10}");
        Assert.AreEqual(expected, interval.HalfWidth, 1e-8 * expected);
    }

    [TestMethod]
    public void BoundsAreScoredSavedAndLoadedAndCoverNewRows()
    {
        var mlContext = new MLContext(seed: 0);
        var model = mlContext.Regression.Trainers.InfiniteWidthNtk().Fit(mlContext.Data.LoadFromEnumerable(PredictionIntervalTests.Row.Generate(400, seed: 3)));
        IDataView test = mlContext.Data.LoadFromEnumerable(PredictionIntervalTests.Row.Generate(3000, seed: 4));
        var loaded = ReliabilityFixtures.LoadFromBytes(mlContext, ReliabilityFixtures.SaveToBytes<PredictionIntervalTests.Row>(mlContext, model));
        IDataView scored = loaded.Transform(test);
        float[] labels = scored.GetColumn<float>("Label").ToArray();
        float[] lower = scored.GetColumn<float>("LowerBound").ToArray();
        float[] upper = scored.GetColumn<float>("UpperBound").ToArray();
        CollectionAssert.AreEqual(model.Transform(test).GetColumn<float>("UpperBound").ToArray(), upper);
        double coverage = Enumerable.Range(0, labels.Length).Count(i => lower[i] <= labels[i] && labels[i] <= upper[i]) / (double)labels.Length;
        TestContext.WriteLine($"coverage {coverage:F3}, {model.Model.PredictionInterval}");
        Assert.AreEqual(0.9, coverage, 0.05);

        // A finite training time has no exact leave-one-out: no intervals, and the schema says so before training.
        var finite = mlContext.Regression.Trainers.InfiniteWidthNtk(new InfiniteWidthNtkRegressionTrainer.Options { TrainingTime = 10 })
            .Fit(mlContext.Data.LoadFromEnumerable(PredictionIntervalTests.Row.Generate(60, seed: 3)));
        Assert.IsNull(finite.Model.PredictionInterval);
        Assert.IsNull(finite.Transform(test).Schema.GetColumnOrNull("LowerBound"));
    }
}
