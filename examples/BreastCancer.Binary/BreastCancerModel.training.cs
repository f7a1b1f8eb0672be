using System;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Transforms;

namespace BreastCancerBinary;

/// <summary>
/// Model Builder-style training code for the breast cancer model: the featurization, the pipeline with the KARE binary
/// trainer (default options), training and saving.
/// </summary>
public static partial class BreastCancerModel
{
    /// <summary>The label column (true for malignant).</summary>
    public const string LabelColumn = "Malignant";

    /// <summary>The 30 numeric feature columns.</summary>
    public static readonly string[] FeatureColumns =
    {
        "mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness", "mean_compactness",
        "mean_concavity", "mean_concave_points", "mean_symmetry", "mean_fractal_dimension", "radius_error",
        "texture_error", "perimeter_error", "area_error", "smoothness_error", "compactness_error", "concavity_error",
        "concave_points_error", "symmetry_error", "fractal_dimension_error", "worst_radius", "worst_texture",
        "worst_perimeter", "worst_area", "worst_smoothness", "worst_compactness", "worst_concavity",
        "worst_concave_points", "worst_symmetry", "worst_fractal_dimension"
    };

    /// <summary>
    /// The featurization every trainer of the example shares: concatenate the numeric columns into <c>Features</c> and
    /// standardise it.
    /// </summary>
    public static EstimatorChain<NormalizingTransformer> BuildFeaturizer(MLContext mlContext) =>
        mlContext.Transforms.Concatenate("Features", FeatureColumns)
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"));

    /// <summary>
    /// The training pipeline: <see cref="BuildFeaturizer"/> followed by the KARE binary trainer with default options
    /// (a fixed seed, and an optional callback after each epoch).
    /// </summary>
    public static EstimatorChain<BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>> BuildPipeline(
        MLContext mlContext, IProgress<KareEpochSummary>? progress = null, int seed = 0) =>
        BuildFeaturizer(mlContext).Append(mlContext.BinaryClassification.Trainers.Kare(new KareBinaryTrainer.Options
        {
            LabelColumnName = LabelColumn,
            FeatureColumnName = "Features",
            Seed = seed,
            Progress = progress,
        }));

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainingData"/>.</summary>
    public static TransformerChain<BinaryPredictionTransformer<CalibratedModelParametersBase<KareBinaryModelParameters, PlattCalibrator>>> Train(
        MLContext mlContext, IDataView trainingData, IProgress<KareEpochSummary>? progress = null, int seed = 0) =>
        BuildPipeline(mlContext, progress, seed).Fit(trainingData);

    /// <summary>Saves <paramref name="model"/> with the schema of its input to <paramref name="modelPath"/>.</summary>
    public static void Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string modelPath) =>
        mlContext.Model.Save(model, inputSchema, modelPath);
}
