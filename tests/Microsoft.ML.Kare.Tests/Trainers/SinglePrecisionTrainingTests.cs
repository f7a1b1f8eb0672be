using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Reliability;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>
/// The trainers' <c>SinglePrecisionTraining</c> option as users meet it: it reaches the training steps (the model is not
/// the float64 one to the last bit) and gives the same model to float32's accuracy.
/// </summary>
[TestClass]
public sealed class SinglePrecisionTrainingTests
{
    [TestMethod]
    public void Float32StepsGiveTheFloat64ModelToFloat32Accuracy()
    {
        float[] single = Predictions(singlePrecision: true);
        float[] full = Predictions(singlePrecision: false);
        double scale = Math.Sqrt(full.Average(p => (double)p * p));
        double difference = Math.Sqrt(full.Zip(single, (a, b) => (double)(a - b) * (a - b)).Average());
        Assert.IsLessThan(1e-3 * scale, difference, $"float32 steps moved the predictions by {difference / scale:E1} of their size");
        Assert.IsGreaterThan(0.0, difference, "float32 steps gave the float64 model bit for bit: the option did not reach the steps");
    }

    private static float[] Predictions(bool singlePrecision)
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer.Options options = ReliabilityFixtures.TinyRegressionOptions();
        options.HiddenLayerWidths = new[] { 16 };
        options.NumberOfEpochs = 10;
        options.SinglePrecisionTraining = singlePrecision;
        var model = ReliabilityFixtures.TrainRegression(mlContext, options, rows: 150);
        IDataView test = mlContext.Data.LoadFromEnumerable(ReliabilityFixtures.RegressionRows(50, seed: 9));
        return model.Transform(test).GetColumn<float>("Score").ToArray();
    }
}
