using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;

namespace WineMulticlass;

/// <summary>
/// Model Builder-style consumption code for the wine model: the input row (one property per CSV column), the output
/// row, and helpers that load <c>MLModel.zip</c> and predict one row or a batch. Shared by the training and the
/// consumption project. Scoring a loaded KARE model needs Microsoft.ML.Kare but never loads libtorch.
/// </summary>
public static partial class WineModel
{
    /// <summary>One row of <c>wine.csv</c>: 13 chemical measurements of a wine and its cultivar (0, 1 or 2).</summary>
    public sealed class ModelInput
    {
        [LoadColumn(0), ColumnName("alcohol")] public float Alcohol { get; set; }
        [LoadColumn(1), ColumnName("malic_acid")] public float MalicAcid { get; set; }
        [LoadColumn(2), ColumnName("ash")] public float Ash { get; set; }
        [LoadColumn(3), ColumnName("alcalinity_of_ash")] public float AlcalinityOfAsh { get; set; }
        [LoadColumn(4), ColumnName("magnesium")] public float Magnesium { get; set; }
        [LoadColumn(5), ColumnName("total_phenols")] public float TotalPhenols { get; set; }
        [LoadColumn(6), ColumnName("flavanoids")] public float Flavanoids { get; set; }
        [LoadColumn(7), ColumnName("nonflavanoid_phenols")] public float NonflavanoidPhenols { get; set; }
        [LoadColumn(8), ColumnName("proanthocyanins")] public float Proanthocyanins { get; set; }
        [LoadColumn(9), ColumnName("color_intensity")] public float ColorIntensity { get; set; }
        [LoadColumn(10), ColumnName("hue")] public float Hue { get; set; }
        [LoadColumn(11), ColumnName("od280_od315")] public float Od280Od315 { get; set; }
        [LoadColumn(12), ColumnName("proline")] public float Proline { get; set; }
        [LoadColumn(13), ColumnName("Cultivar")] public float Cultivar { get; set; }
    }

    /// <summary>The model's prediction for one row.</summary>
    public sealed class ModelOutput
    {
        /// <summary>The predicted cultivar (0, 1 or 2).</summary>
        [ColumnName("PredictedLabel")] public float PredictedCultivar { get; set; }

        /// <summary>The probability of each cultivar, in the order 0, 1, 2.</summary>
        [ColumnName("Score")] public float[] Score { get; set; } = Array.Empty<float>();
    }

    /// <summary>Where <see cref="Predict"/> loads the model from: <c>MLModel.zip</c> in the training project's folder by default.</summary>
    public static string ModelPath { get; set; } = ExamplePaths.ModelPath(Array.Empty<string>());

    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> Engine = new(CreatePredictionEngine, isThreadSafe: true);

    /// <summary>Reads rows of <c>wine.csv</c> (header row, comma-separated).</summary>
    public static IDataView LoadData(MLContext mlContext, string path) =>
        mlContext.Data.LoadFromTextFile<ModelInput>(path, separatorChar: ',', hasHeader: true);

    /// <summary>Predicts one row with the model at <see cref="ModelPath"/> (loaded once).</summary>
    public static ModelOutput Predict(ModelInput input) => Engine.Value.Predict(input);

    /// <summary>Predicts many rows at once: the model's <c>Transform</c> over an <see cref="IDataView"/>.</summary>
    public static IReadOnlyList<ModelOutput> PredictBatch(IEnumerable<ModelInput> inputs)
    {
        var mlContext = new MLContext();
        ITransformer model = mlContext.Model.Load(ModelPath, out _);
        IDataView scored = model.Transform(mlContext.Data.LoadFromEnumerable(inputs));
        return mlContext.Data.CreateEnumerable<ModelOutput>(scored, reuseRowObject: false).ToList();
    }

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictionEngine()
    {
        var mlContext = new MLContext();
        ITransformer model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }
}
