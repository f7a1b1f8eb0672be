using System.Linq;
using System;
using Microsoft.ML.Kare.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Trainers;

[TestClass]
public sealed class KareRegressionTrainerOptionsTests
{
    [TestMethod]
    public void DefaultsFollowThePaper()
    {
        var options = new KareRegressionTrainer.Options();
        CollectionAssert.AreEqual(new[] { 64 }, options.HiddenLayerWidths);
        Assert.AreEqual(KareActivation.Gelu, options.Activation);
        Assert.AreEqual(100, options.NumberOfEpochs);
        Assert.AreEqual(20.0, options.LearningRate);
        Assert.AreEqual(KareOptimizer.Sgd, options.Optimizer);
        Assert.AreEqual(0, options.BatchSize);
        Assert.AreEqual(0.1, options.TrainingRidge);
        Assert.IsTrue(options.AppendNormalScores);
        Assert.AreEqual(KareRelevanceWeighting.Automatic, options.RelevanceWeighting);
        Assert.AreEqual(KareRidgeSelection.Automatic, options.RidgeSelection);
        Assert.AreEqual(5, options.NumberOfFolds);
        Assert.AreEqual(0.2, options.ValidationFraction);
        Assert.IsNull(options.MaximumKernelTrainingRows);
        Assert.IsNull(options.Seed);
        Assert.IsNull(options.NumberOfThreads);
        Assert.AreEqual("Label", options.LabelColumnName);
        Assert.AreEqual("Features", options.FeatureColumnName);
        Assert.IsNull(options.ExampleWeightColumnName);

        double[] grid = options.RidgeGrid;
        Assert.HasCount(36, grid);
        Assert.AreEqual(1e-6, grid[0]);
        Assert.AreEqual(10.0, grid[^1]);
        double ratio = grid[1] / grid[0];
        for (int i = 1; i < grid.Length; i++)
            Assert.AreEqual(ratio, grid[i] / grid[i - 1], 1e-9 * ratio, $"grid is not log-spaced at {i}");
    }

    [TestMethod]
    public void DefaultArraysAreNotShared()
    {
        var first = new KareRegressionTrainer.Options();
        first.HiddenLayerWidths[0] = 3;
        first.RidgeGrid[0] = 42;
        var second = new KareRegressionTrainer.Options();
        Assert.AreEqual(64, second.HiddenLayerWidths[0]);
        Assert.AreEqual(1e-6, second.RidgeGrid[0]);
    }

    [TestMethod]
    public void OptionsMapToBackendSettings()
    {
        var options = new KareRegressionTrainer.Options
        {
            HiddenLayerWidths = new[] { 32, 16 },
            Activation = KareActivation.Tanh,
            NumberOfEpochs = 7,
            LearningRate = 0.5,
            Optimizer = KareOptimizer.Adam,
            BatchSize = 128,
            TrainingRidge = 0.05,
            RidgeGrid = new[] { 1e-3, 1e-2 },
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            ValidationFraction = 0.3,
            NumberOfThreads = 2,
            RelevanceWeighting = KareRelevanceWeighting.AllInputs,
        };
        KareFitSettings settings = KareRegressionTrainer.CreateSettings(options, seed: 17);
        Assert.AreEqual(KareRelevanceWeighting.AllInputs, settings.RelevanceWeighting);
        CollectionAssert.AreEqual(new[] { 32, 16 }, settings.HiddenWidths.ToArray());
        Assert.AreEqual(KareActivation.Tanh, settings.Activation);
        Assert.AreEqual(7, settings.Epochs);
        Assert.AreEqual(0.5, settings.LearningRate);
        Assert.AreEqual(KareOptimizer.Adam, settings.Optimizer);
        Assert.AreEqual(128, settings.BatchSize);
        Assert.AreEqual(0.05, settings.TrainingRelativeRidge);
        CollectionAssert.AreEqual(new[] { 1e-3, 1e-2 }, settings.RelativeRidgeGrid.ToArray());
        Assert.AreEqual(KareRidgeSelection.GeneralizedCrossValidation, settings.RidgeSelection);
        Assert.AreEqual(0.3, settings.ValidationFraction);
        Assert.AreEqual(17, settings.Seed);
        Assert.AreEqual(2, settings.ThreadCount);

        Assert.AreEqual(0, KareRegressionTrainer.CreateSettings(new KareRegressionTrainer.Options(), seed: 1).ThreadCount);
        Assert.AreEqual(FitPlan.AutomaticMaximumKernelTrainingRows, KareRegressionTrainer.CreateSettings(new KareRegressionTrainer.Options(), seed: 1).MaximumKernelTrainingRows);
        Assert.AreEqual(0, KareRegressionTrainer.CreateSettings(new KareRegressionTrainer.Options { MaximumKernelTrainingRows = 0 }, seed: 1).MaximumKernelTrainingRows);
        Assert.AreEqual(500, KareRegressionTrainer.CreateSettings(new KareRegressionTrainer.Options { MaximumKernelTrainingRows = 500 }, seed: 1).MaximumKernelTrainingRows);
    }

    [TestMethod]
    public void SimpleOverloadSetsColumnsAndHyperparameters()
    {
        var mlContext = new MLContext(seed: 0);
        KareRegressionTrainer trainer = mlContext.Regression.Trainers.Kare("Y", "X", "W", numberOfEpochs: 3, learningRate: 2.5, hiddenLayerWidths: new[] { 8 });
        Assert.AreEqual("Y", trainer.LabelColumn.Name);
        Assert.AreEqual("X", trainer.FeatureColumn.Name);
        Assert.AreEqual("W", trainer.WeightColumn.Name);
        Assert.IsFalse(trainer.Info.NeedNormalization);
        Assert.IsFalse(trainer.Info.WantCaching);

        KareRegressionTrainer defaults = mlContext.Regression.Trainers.Kare();
        Assert.AreEqual("Label", defaults.LabelColumn.Name);
        Assert.AreEqual("Features", defaults.FeatureColumn.Name);
        Assert.IsNull(defaults.WeightColumn.Name);
    }

    public static System.Collections.Generic.IEnumerable<object[]> InvalidOptions()
    {
        yield return Case(o => o.HiddenLayerWidths = Array.Empty<int>(), nameof(KareRegressionTrainer.Options.HiddenLayerWidths), "at least one hidden layer");
        yield return Case(o => o.HiddenLayerWidths = null!, nameof(KareRegressionTrainer.Options.HiddenLayerWidths), "at least one hidden layer");
        yield return Case(o => o.HiddenLayerWidths = new[] { 16, 0 }, nameof(KareRegressionTrainer.Options.HiddenLayerWidths), "positive width");
        yield return Case(o => o.Activation = (KareActivation)42, nameof(KareRegressionTrainer.Options.Activation), "KareActivation");
        yield return Case(o => o.NumberOfEpochs = -1, nameof(KareRegressionTrainer.Options.NumberOfEpochs), "non-negative");
        yield return Case(o => o.LearningRate = 0, nameof(KareRegressionTrainer.Options.LearningRate), "positive finite");
        yield return Case(o => o.LearningRate = double.NaN, nameof(KareRegressionTrainer.Options.LearningRate), "positive finite");
        yield return Case(o => o.LearningRate = double.PositiveInfinity, nameof(KareRegressionTrainer.Options.LearningRate), "positive finite");
        yield return Case(o => o.Optimizer = (KareOptimizer)(-1), nameof(KareRegressionTrainer.Options.Optimizer), "KareOptimizer");
        yield return Case(o => o.BatchSize = 1, nameof(KareRegressionTrainer.Options.BatchSize), "at least 2 rows");
        yield return Case(o => o.BatchSize = -5, nameof(KareRegressionTrainer.Options.BatchSize), "at least 2 rows");
        yield return Case(o => o.TrainingRidge = 0, nameof(KareRegressionTrainer.Options.TrainingRidge), "positive finite");
        yield return Case(o => o.TrainingRidge = double.NaN, nameof(KareRegressionTrainer.Options.TrainingRidge), "positive finite");
        yield return Case(o => o.RidgeGrid = Array.Empty<double>(), nameof(KareRegressionTrainer.Options.RidgeGrid), "at least one relative ridge");
        yield return Case(o => o.RidgeGrid = null!, nameof(KareRegressionTrainer.Options.RidgeGrid), "at least one relative ridge");
        yield return Case(o => o.RidgeGrid = new[] { 1e-3, -1 }, nameof(KareRegressionTrainer.Options.RidgeGrid), "positive finite");
        yield return Case(o => o.RidgeSelection = (KareRidgeSelection)9, nameof(KareRegressionTrainer.Options.RidgeSelection), "KareRidgeSelection");
        yield return Case(o => o.ValidationFraction = 0, nameof(KareRegressionTrainer.Options.ValidationFraction), "positive when RidgeSelection is HoldOut");
        yield return Case(o => o.ValidationFraction = 1, nameof(KareRegressionTrainer.Options.ValidationFraction), "less than 1");
        yield return Case(o => o.ValidationFraction = -0.1, nameof(KareRegressionTrainer.Options.ValidationFraction), "at least 0");
        yield return Case(o => o.ValidationFraction = double.NaN, nameof(KareRegressionTrainer.Options.ValidationFraction), "at least 0");
        yield return Case(o => o.NumberOfThreads = 0, nameof(KareRegressionTrainer.Options.NumberOfThreads), "positive");
        yield return Case(o => o.MaximumKernelTrainingRows = 5, nameof(KareRegressionTrainer.Options.MaximumKernelTrainingRows), "at least 20");
        yield return Case(o => o.MaximumKernelTrainingRows = -1, nameof(KareRegressionTrainer.Options.MaximumKernelTrainingRows), "0 (no limit)");
        yield return Case(o => o.FeatureColumnName = " ", nameof(KareRegressionTrainer.Options.FeatureColumnName), "feature column");
        yield return Case(o => o.LabelColumnName = null!, nameof(KareRegressionTrainer.Options.LabelColumnName), "label column");

        static object[] Case(Action<KareRegressionTrainer.Options> change, string option, string message) => new object[] { change, option, message };
    }

    [TestMethod]
    [DynamicData(nameof(InvalidOptions))]
    public void InvalidOptionIsRejectedWithItsName(Action<KareRegressionTrainer.Options> change, string option, string message)
    {
        var options = new KareRegressionTrainer.Options();
        change(options);
        var mlContext = new MLContext(seed: 0);
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Kare(options));
        Assert.AreEqual(option, ex.ParamName);
        StringAssert.Contains(ex.Message, message);
    }

    /// <summary>Generalised cross-validation holds out nothing, so it takes a validation fraction of 0 (and trains on it).</summary>
    [TestMethod]
    public void ZeroValidationFractionIsAcceptedWithGeneralizedCrossValidation()
    {
        var mlContext = new MLContext(seed: 0);
        var options = new KareRegressionTrainer.Options
        {
            RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
            ValidationFraction = 0,
            NumberOfEpochs = 2,
            HiddenLayerWidths = new[] { 8 },
        };
        var model = mlContext.Regression.Trainers.Kare(options).Fit(mlContext.Data.LoadFromEnumerable(KareRegressionTrainerPipelineTests.VectorRow.Generate(60, seed: 2)));
        Assert.AreEqual(2, model.Model.SelectedEpoch, "GCV keeps the last epoch");
    }

    [TestMethod]
    public void InvalidSimpleOverloadArgumentsAreRejected()
    {
        var mlContext = new MLContext(seed: 0);
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Kare(numberOfEpochs: -3));
        Assert.AreEqual(nameof(KareRegressionTrainer.Options.NumberOfEpochs), ex.ParamName);
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.Kare(learningRate: -1));
        Assert.AreEqual(nameof(KareRegressionTrainer.Options.LearningRate), ex.ParamName);
        Assert.ThrowsExactly<ArgumentNullException>(() => mlContext.Regression.Trainers.Kare((KareRegressionTrainer.Options)null!));
    }
}
