using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// Extension methods that add the KARE trainers to <see cref="MLContext"/>'s regression, binary classification and
/// multiclass classification catalogs.
/// </summary>
public static class KareCatalog
{
    /// <summary>
    /// Create a <see cref="KareRegressionTrainer"/>, which predicts a target with kernel ridge regression on the neural
    /// tangent kernel of a multilayer perceptron whose kernel is trained by minimising KARE.
    /// </summary>
    /// <param name="catalog">The regression catalog trainer object.</param>
    /// <param name="labelColumnName">The name of the label column. The column data must be <see cref="System.Single"/> or <see cref="System.Double"/>.</param>
    /// <param name="featureColumnName">The name of the feature column. The column data must be a known-sized vector of <see cref="System.Single"/>.</param>
    /// <param name="exampleWeightColumnName">The name of the example weight column (optional). The column data must be <see cref="System.Single"/>.</param>
    /// <param name="numberOfEpochs">The number of passes of KARE training over the training rows; 0 uses the kernel of the network at initialisation.</param>
    /// <param name="learningRate">The step size of the optimiser that minimises KARE (plain gradient descent by default).</param>
    /// <param name="hiddenLayerWidths">The width of each hidden layer, input side first; null for one hidden layer of 64 units.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Concatenate("Features", "X1", "X2", "X3")
    ///     .Append(mlContext.Regression.Trainers.Kare(labelColumnName: "Y", numberOfEpochs: 50));
    /// var model = pipeline.Fit(trainingData);
    /// </code>
    /// </example>
    public static KareRegressionTrainer Kare(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = KareTrainerDefaults.NumberOfEpochs,
        double learningRate = KareTrainerDefaults.LearningRate,
        int[]? hiddenLayerWidths = null)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new KareRegressionTrainer(env, labelColumnName, featureColumnName, exampleWeightColumnName,
            numberOfEpochs, learningRate, hiddenLayerWidths);
    }

    /// <summary>
    /// Create a <see cref="KareRegressionTrainer"/> using advanced options, which predicts a target with kernel ridge
    /// regression on the neural tangent kernel of a multilayer perceptron whose kernel is trained by minimising KARE.
    /// </summary>
    /// <param name="catalog">The regression catalog trainer object.</param>
    /// <param name="options">Trainer options. The trainer copies them: later changes do not affect it.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var options = new KareRegressionTrainer.Options
    /// {
    ///     LabelColumnName = "Y",
    ///     HiddenLayerWidths = new[] { 128, 128 },
    ///     NumberOfEpochs = 50,
    ///     RidgeSelection = KareRidgeSelection.GeneralizedCrossValidation,
    /// };
    /// var trainer = mlContext.Regression.Trainers.Kare(options);
    /// </code>
    /// </example>
    public static KareRegressionTrainer Kare(this RegressionCatalog.RegressionTrainers catalog,
        KareRegressionTrainer.Options options)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        Contracts.CheckValue(options, nameof(options));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new KareRegressionTrainer(env, options);
    }
    /// <summary>
    /// Create a <see cref="KareBinaryTrainer"/>, which predicts a Boolean label with kernel ridge regression of ±1 targets
    /// on the neural tangent kernel of a multilayer perceptron whose kernel is trained by minimising KARE, and calibrates
    /// its score into a probability.
    /// </summary>
    /// <param name="catalog">The binary classification catalog trainer object.</param>
    /// <param name="labelColumnName">The name of the label column. The column data must be <see cref="System.Boolean"/>.</param>
    /// <param name="featureColumnName">The name of the feature column. The column data must be a known-sized vector of <see cref="System.Single"/>.</param>
    /// <param name="exampleWeightColumnName">The name of the example weight column (optional). The column data must be <see cref="System.Single"/>.</param>
    /// <param name="numberOfEpochs">The number of passes of KARE training over the training rows; 0 uses the kernel of the network at initialisation.</param>
    /// <param name="learningRate">The step size of the optimiser that minimises KARE (plain gradient descent by default).</param>
    /// <param name="hiddenLayerWidths">The width of each hidden layer, input side first; null for one hidden layer of 64 units.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Concatenate("Features", "X1", "X2", "X3")
    ///     .Append(mlContext.BinaryClassification.Trainers.Kare(labelColumnName: "IsPositive", numberOfEpochs: 50));
    /// var model = pipeline.Fit(trainingData);
    /// var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(testData), labelColumnName: "IsPositive");
    /// </code>
    /// </example>
    public static KareBinaryTrainer Kare(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = KareTrainerDefaults.NumberOfEpochs,
        double learningRate = KareTrainerDefaults.LearningRate,
        int[]? hiddenLayerWidths = null)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new KareBinaryTrainer(env, labelColumnName, featureColumnName, exampleWeightColumnName,
            numberOfEpochs, learningRate, hiddenLayerWidths);
    }

    /// <summary>
    /// Create a <see cref="KareBinaryTrainer"/> using advanced options, which predicts a Boolean label with kernel ridge
    /// regression of ±1 targets on the neural tangent kernel of a multilayer perceptron whose kernel is trained by
    /// minimising KARE, and calibrates its score into a probability.
    /// </summary>
    /// <param name="catalog">The binary classification catalog trainer object.</param>
    /// <param name="options">Trainer options. The trainer copies them: later changes do not affect it.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var options = new KareBinaryTrainer.Options
    /// {
    ///     LabelColumnName = "IsPositive",
    ///     HiddenLayerWidths = new[] { 128 },
    ///     NumberOfEpochs = 50,
    /// };
    /// var trainer = mlContext.BinaryClassification.Trainers.Kare(options);
    /// </code>
    /// </example>
    public static KareBinaryTrainer Kare(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        KareBinaryTrainer.Options options)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        Contracts.CheckValue(options, nameof(options));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new KareBinaryTrainer(env, options);
    }

    /// <summary>
    /// Create a <see cref="KareMulticlassTrainer"/>, which predicts a key-typed label with kernel ridge regression of ±1
    /// one-hot targets on one shared neural tangent kernel of a multilayer perceptron whose kernel is trained by
    /// minimising KARE; the class scores are calibrated probabilities.
    /// </summary>
    /// <param name="catalog">The multiclass classification catalog trainer object.</param>
    /// <param name="labelColumnName">The name of the label column. The column data must be <see cref="Microsoft.ML.Data.KeyDataViewType"/>.</param>
    /// <param name="featureColumnName">The name of the feature column. The column data must be a known-sized vector of <see cref="System.Single"/>.</param>
    /// <param name="exampleWeightColumnName">The name of the example weight column (optional). The column data must be <see cref="System.Single"/>.</param>
    /// <param name="numberOfEpochs">The number of passes of KARE training over the training rows; 0 uses the kernel of the network at initialisation.</param>
    /// <param name="learningRate">The step size of the optimiser that minimises KARE (plain gradient descent by default).</param>
    /// <param name="hiddenLayerWidths">The width of each hidden layer, input side first; null for one hidden layer of 64 units.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", "Species")
    ///     .Append(mlContext.Transforms.Concatenate("Features", "SepalLength", "SepalWidth", "PetalLength", "PetalWidth"))
    ///     .Append(mlContext.MulticlassClassification.Trainers.Kare(numberOfEpochs: 50))
    ///     .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedSpecies", "PredictedLabel"));
    /// var model = pipeline.Fit(trainingData);
    /// </code>
    /// </example>
    public static KareMulticlassTrainer Kare(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        int numberOfEpochs = KareTrainerDefaults.NumberOfEpochs,
        double learningRate = KareTrainerDefaults.LearningRate,
        int[]? hiddenLayerWidths = null)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new KareMulticlassTrainer(env, labelColumnName, featureColumnName, exampleWeightColumnName,
            numberOfEpochs, learningRate, hiddenLayerWidths);
    }

    /// <summary>
    /// Create a <see cref="KareMulticlassTrainer"/> using advanced options, which predicts a key-typed label with kernel
    /// ridge regression of ±1 one-hot targets on one shared neural tangent kernel of a multilayer perceptron whose kernel
    /// is trained by minimising KARE; the class scores are calibrated probabilities.
    /// </summary>
    /// <param name="catalog">The multiclass classification catalog trainer object.</param>
    /// <param name="options">Trainer options. The trainer copies them: later changes do not affect it.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var options = new KareMulticlassTrainer.Options
    /// {
    ///     HiddenLayerWidths = new[] { 128 },
    ///     NumberOfEpochs = 50,
    /// };
    /// var trainer = mlContext.MulticlassClassification.Trainers.Kare(options);
    /// </code>
    /// </example>
    public static KareMulticlassTrainer Kare(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        KareMulticlassTrainer.Options options)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        Contracts.CheckValue(options, nameof(options));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new KareMulticlassTrainer(env, options);
    }
}
