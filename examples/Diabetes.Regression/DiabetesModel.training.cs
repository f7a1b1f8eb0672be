using System;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Transforms;

namespace DiabetesRegression;

/// <summary>
/// Model Builder-style training code for the diabetes model: the featurization, the pipeline with the KARE trainer
/// (default options), training and saving.
/// </summary>
public static partial class DiabetesModel
{
    /// <summary>The label column.</summary>
    public const string LabelColumn = "Progression";

    /// <summary>The numeric feature columns (sex, the eleventh, is one-hot encoded).</summary>
    public static readonly string[] NumericColumns = { "age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6" };

    /// <summary>
    /// The featurization every trainer of the example shares: one-hot encode <c>sex</c> (recorded as 1 or 2), concatenate
    /// it with the numeric columns into <c>Features</c>, and standardise <c>Features</c>.
    /// </summary>
    public static EstimatorChain<NormalizingTransformer> BuildFeaturizer(MLContext mlContext) =>
        mlContext.Transforms.Categorical.OneHotEncoding(new[] { new InputOutputColumnPair("sex", "sex") })
            .Append(mlContext.Transforms.Concatenate("Features", ["sex", .. NumericColumns]))
            .Append(mlContext.Transforms.NormalizeMeanVariance("Features"));

    /// <summary>
    /// The training pipeline: <see cref="BuildFeaturizer"/> followed by the KARE regression trainer with default options
    /// (a fixed seed, and an optional callback after each epoch).
    /// </summary>
    public static EstimatorChain<RegressionPredictionTransformer<KareRegressionModelParameters>> BuildPipeline(
        MLContext mlContext, IProgress<KareEpochSummary>? progress = null, int seed = 0) =>
        BuildFeaturizer(mlContext).Append(mlContext.Regression.Trainers.Kare(new KareRegressionTrainer.Options
        {
            LabelColumnName = LabelColumn,
            FeatureColumnName = "Features",
            Seed = seed,
            Progress = progress,
        }));

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainingData"/>.</summary>
    public static TransformerChain<RegressionPredictionTransformer<KareRegressionModelParameters>> Train(
        MLContext mlContext, IDataView trainingData, IProgress<KareEpochSummary>? progress = null, int seed = 0) =>
        BuildPipeline(mlContext, progress, seed).Fit(trainingData);

    /// <summary>Saves <paramref name="model"/> with the schema of its input to <paramref name="modelPath"/>.</summary>
    public static void Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string modelPath) =>
        mlContext.Model.Save(model, inputSchema, modelPath);

    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX model to <paramref name="onnxPath"/> with ML.NET's converter (package
    /// Microsoft.ML.OnnxConverter). Its inputs are the feature columns of <see cref="ModelInput"/>, each a [N, 1] float
    /// tensor named after the column (the label is left out, so that a caller feeds only features); its outputs are
    /// <c>Score.output</c>, <c>LowerBound.output</c> and <c>UpperBound.output</c>.
    /// </summary>
    public static void SaveOnnx(MLContext mlContext, ITransformer model, string onnxPath)
    {
        SchemaDefinition features = SchemaDefinition.Create(typeof(ModelInput));
        features.RemoveAll(column => column.ColumnName == LabelColumn);
        IDataView input = mlContext.Data.LoadFromEnumerable(Array.Empty<ModelInput>(), features);
        using FileStream stream = File.Create(onnxPath);
        mlContext.Model.ConvertToOnnx(model, input, stream);
    }
}
