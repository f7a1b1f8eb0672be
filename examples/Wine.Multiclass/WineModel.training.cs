using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Transforms;

namespace WineMulticlass;

/// <summary>
/// Model Builder-style training code for the wine model: the featurization, the pipeline with the KARE multiclass
/// trainer (default options), training and saving.
/// </summary>
public static partial class WineModel
{
    /// <summary>The label column (cultivar 0, 1 or 2).</summary>
    public const string LabelColumn = "Cultivar";

    /// <summary>The 13 numeric feature columns.</summary>
    public static readonly string[] FeatureColumns =
    {
        "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
        "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315", "proline",
    };

    /// <summary>
    /// The featurization every trainer of the example shares: map the label to a key (ordered by value, so key k + 1 is
    /// cultivar k), concatenate the numeric columns into <c>Features</c> and standardise it.
    /// </summary>
    public static EstimatorChain<NormalizingTransformer> BuildFeaturizer(MLContext mlContext) =>
        mlContext.Transforms.Conversion.MapValueToKey(LabelColumn, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(mlContext.Transforms.Concatenate("Features", FeatureColumns))
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"));

    /// <summary>
    /// <see cref="BuildFeaturizer"/>, then <paramref name="trainer"/>, then the predicted key mapped back to the cultivar.
    /// </summary>
    public static EstimatorChain<KeyToValueMappingTransformer> BuildPipeline(MLContext mlContext, IEstimator<ITransformer> trainer) =>
        BuildFeaturizer(mlContext)
            .Append(trainer)
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    /// <summary>
    /// The training pipeline: <see cref="BuildFeaturizer"/>, the KARE multiclass trainer with default options (a fixed
    /// seed, and an optional callback after each epoch), and the predicted key mapped back to the cultivar.
    /// </summary>
    public static EstimatorChain<KeyToValueMappingTransformer> BuildPipeline(
        MLContext mlContext, IProgress<KareEpochSummary>? progress = null, int seed = 0) =>
        BuildPipeline(mlContext, mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options
        {
            LabelColumnName = LabelColumn,
            FeatureColumnName = "Features",
            Seed = seed,
            Progress = progress,
        }));

    /// <summary>Fits <see cref="BuildPipeline(MLContext, IProgress{KareEpochSummary}?, int)"/> on <paramref name="trainingData"/>.</summary>
    public static TransformerChain<KeyToValueMappingTransformer> Train(
        MLContext mlContext, IDataView trainingData, IProgress<KareEpochSummary>? progress = null, int seed = 0) =>
        BuildPipeline(mlContext, progress, seed).Fit(trainingData);

    /// <summary>The KARE model parameters inside a pipeline fitted by <see cref="Train"/>.</summary>
    public static KareMulticlassModelParameters KareParameters(TransformerChain<KeyToValueMappingTransformer> model) =>
        model.OfType<MulticlassPredictionTransformer<KareMulticlassModelParameters>>().Single().Model;

    /// <summary>Saves <paramref name="model"/> with the schema of its input to <paramref name="modelPath"/>.</summary>
    public static void Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string modelPath) =>
        mlContext.Model.Save(model, inputSchema, modelPath);
}
