using System.Linq;
using System;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare.Tests.TestUtilities;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.Training;

/// <summary>
/// The methods KARE is compared with (docs/maths.md, "Other methods"), run by the same fitter: each against the method it reduces to,
/// and the saved prediction (primal scorer) against the trained network computed directly.
/// </summary>
[TestClass]
public sealed class KareMethodsTests
{
    private const int Rows = 120;
    private const int Inputs = 3;

    [TestMethod]
    public void NtkAtInitializationIsKareWithZeroEpochs()
    {
        KareTrainingData data = CreateData(outputs: 1);
        KareFitSettings kare = Settings(KareMethod.Kare) with { Epochs = 0 };
        KareFitResult expected = KareFitter.Fit(data, kare, new RecordingMonitor());
        KareFitResult actual = KareFitter.Fit(data, Settings(KareMethod.NtkAtInitialization), new RecordingMonitor());
        Assert.AreEqual(KareMethod.NtkAtInitialization, actual.Method);
        Assert.AreEqual(0, actual.SelectedEpoch);
        Assert.HasCount(1, actual.TrainingCurve);
        CollectionAssert.AreEqual(expected.Parameters, actual.Parameters);
        CollectionAssert.AreEqual(expected.PrimalWeights, actual.PrimalWeights);
    }

    [TestMethod]
    [DataRow(KareRidgeSelection.HoldOut)]
    [DataRow(KareRidgeSelection.GeneralizedCrossValidation)]
    public void IterativeLinearizationEveryStepIsAfterKernel(KareRidgeSelection selection)
    {
        KareTrainingData data = CreateData(outputs: 1);
        KareFitResult expected = KareFitter.Fit(data, Settings(KareMethod.AfterKernel) with { RidgeSelection = selection }, new RecordingMonitor());
        KareFitResult actual = KareFitter.Fit(data, Settings(KareMethod.IterativeLinearizationKernel) with { RidgeSelection = selection, RelinearizationInterval = 1 },
            new RecordingMonitor());
        Assert.AreEqual(expected.SelectedEpoch, actual.SelectedEpoch);
        Assert.AreEqual(expected.RelativeRidge, actual.RelativeRidge);
        Dense.AssertWithin(Dense.RelativeError(expected.Parameters, actual.Parameters), 1e-10, "θ");
        Dense.AssertWithin(Dense.RelativeError(expected.PrimalWeights, actual.PrimalWeights), 1e-7, "β");
    }

    [TestMethod]
    public void AfterKernelTrainsTheNetworkByMeanSquaredError()
    {
        KareTrainingData data = CreateData(outputs: 1);
        var monitor = new RecordingMonitor();
        KareFitResult result = KareFitter.Fit(data, Settings(KareMethod.AfterKernel) with { RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation }, monitor);
        // The curve holds the training MSE (standardised units): it starts near the target variance 1 and falls.
        Assert.IsGreaterThan(0.5, result.TrainingCurve[0].Kare);
        Assert.IsLessThan(result.TrainingCurve[0].Kare * 0.8, result.TrainingCurve[^1].Kare);
        Assert.IsGreaterThan(0.0, result.Ridge, "after-kernel predicts by kernel ridge regression");
        Assert.IsTrue(monitor.Messages.Any(m => m.Contains("after-kernel", StringComparison.Ordinal)), "the log names the method");
    }

    [TestMethod]
    public void NeuralNetworkPredictsWithTheTrainedNetwork()
    {
        KareTrainingData data = CreateData(outputs: 1);
        var monitor = new RecordingMonitor();
        KareFitResult result = KareFitter.Fit(data, Settings(KareMethod.NeuralNetwork), monitor);
        Assert.IsTrue(result.PrimalWeights.All(b => b == 0), "the network itself: β = 0");
        Assert.IsTrue(result.TrainingCurve.Skip(1).All(p => double.IsFinite(p.ValidationError)), "held-out error of the network each epoch");
        Assert.AreEqual(Dense.ArgMin(result.TrainingCurve.Select(p => p.ValidationError).ToArray()), result.SelectedEpoch);

        double[] standardized = Standardize(data, result);
        double[] expected;
        using (var network = MlpNetwork.FromParameters(result.Architecture, result.Parameters))
        using (var scope = torch.NewDisposeScope())
            expected = MseStep.Predict(network, torch.tensor(standardized, new long[] { Rows, Inputs }, torch.ScalarType.Float64));
        AssertScorerMatches(result, data, expected.Select(v => result.TargetMeans[0] + result.TargetScales[0] * v).ToArray());
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(4)]
    public void IterativeLinearizationNetworkPredictsWithTheLinearizedNetwork(int interval)
    {
        KareTrainingData data = CreateData(outputs: 1);
        KareFitResult result = KareFitter.Fit(data, Settings(KareMethod.IterativeLinearizationNetwork) with
        {
            RelinearizationInterval = interval,
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
        }, new RecordingMonitor());
        Assert.IsTrue(result.PrimalWeights.Any(b => b != 0), "β = θ − θ_k moved");
        double[] theta = result.Parameters.Zip(result.PrimalWeights, (anchor, step) => anchor + step).ToArray();

        double[] standardized = Standardize(data, result);
        double[] expected;
        using (var scope = torch.NewDisposeScope())
        {
            expected = IterativeLinearization.Predict(result.Architecture, result.Parameters, theta,
                torch.tensor(standardized, new long[] { Rows, Inputs }, torch.ScalarType.Float64));
        }
        AssertScorerMatches(result, data, expected.Select(v => result.TargetMeans[0] + result.TargetScales[0] * v).ToArray());
    }

    [TestMethod]
    [DataRow(KareMethod.AfterKernel)]
    [DataRow(KareMethod.NeuralNetwork)]
    [DataRow(KareMethod.IterativeLinearizationKernel)]
    [DataRow(KareMethod.IterativeLinearizationNetwork)]
    public void MeanSquaredErrorMethodsRejectSeveralOutputs(KareMethod method)
    {
        var error = Assert.ThrowsExactly<NotSupportedException>(() => KareFitter.Fit(CreateData(outputs: 2), Settings(method), new RecordingMonitor()));
        StringAssert.Contains(error.Message, method.ToString());
    }

    [TestMethod]
    public void NetworkMethodsReturnTrainingPredictionsForCalibration()
    {
        KareTrainingData data = CreateData(outputs: 1);
        KareFitResult result = KareFitter.Fit(data, Settings(KareMethod.NeuralNetwork) with { ComputeLeaveOneOutPredictions = true }, new RecordingMonitor());
        Assert.IsNotNull(result.LeaveOneOutPredictions);
        float[] scores = ScoreTrainingRows(result, data);
        for (int i = 0; i < Rows; i += 17)
            Assert.AreEqual(result.LeaveOneOutPredictions[i], scores[i], 1e-4 * (1 + Math.Abs(scores[i])), $"row {i}");
    }

    private static void AssertScorerMatches(KareFitResult result, KareTrainingData data, double[] expected)
    {
        float[] scores = ScoreTrainingRows(result, data);
        for (int i = 0; i < Rows; i++)
            Assert.AreEqual(expected[i], scores[i], 1e-4 * (1 + Math.Abs(expected[i])), $"row {i}");
    }

    /// <summary>The saved model's prediction (the managed primal scorer, network output included) for each training row.</summary>
    private static float[] ScoreTrainingRows(KareFitResult result, KareTrainingData data)
    {
        var scorer = new PrimalScorer(result.Architecture, result.Parameters, result.PrimalWeights, result.FeatureMeans, result.FeatureScales,
            result.TargetMeans, result.TargetScales, includeNetworkOutput: true, result.FeatureCompressionScales);
        var scores = new float[Rows];
        for (int i = 0; i < Rows; i++)
        {
            float[] row = data.Features.AsSpan(i * Inputs, Inputs).ToArray().Select(v => (float)v).ToArray();
            scorer.Score(row, scores.AsSpan(i, 1));
        }
        return scores;
    }

    /// <summary>The rows as the scorer sees them: rounded to float, then standardised.</summary>
    private static double[] Standardize(KareTrainingData data, KareFitResult result)
    {
        var values = new double[data.Features.Length];
        for (int i = 0; i < values.Length; i++)
            values[i] = ((float)data.Features[i] - result.FeatureMeans[i % Inputs]) / result.FeatureScales[i % Inputs];
        return values;
    }

    private static KareFitSettings Settings(KareMethod method) => new()
    {
        Method = method,
        HiddenWidths = new[] { 12 },
        Epochs = 6,
        MeanSquaredErrorLearningRate = 0.05,
        RelativeRidgeGrid = Dense.LogSpace(1e-5, 1, 11),
        Seed = 7,
    };

    private static KareTrainingData CreateData(int outputs)
    {
        var random = new Random(11);
        double[] features = Enumerable.Range(0, Rows * Inputs).Select(_ => random.NextDouble() * 4 - 2).ToArray();
        double[] targets = Enumerable.Range(0, Rows * outputs)
            .Select(i => 5 + 2 * Math.Sin(features[i / outputs * Inputs] + i % outputs) + 0.1 * random.NextDouble()).ToArray();
        return new KareTrainingData(features, Rows, Inputs, targets, outputs, null);
    }
}
