using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;

namespace DiabetesRegression;

/// <summary>
/// Model Builder-style consumption code for the diabetes model: the input row (one property per CSV column), the
/// output row, and helpers that load <c>MLModel.zip</c> and predict one row or a batch. Shared by the training and the
/// consumption project. Scoring a loaded KARE model needs Microsoft.ML.Kare but never loads libtorch.
/// </summary>
public static partial class DiabetesModel
{
    /// <summary>One row of <c>diabetes.csv</c>: ten baseline variables and the disease progression one year later.</summary>
    public sealed class ModelInput
    {
        [LoadColumn(0), ColumnName("age")] public float Age { get; set; }
        [LoadColumn(1), ColumnName("sex")] public float Sex { get; set; }
        [LoadColumn(2), ColumnName("bmi")] public float Bmi { get; set; }
        [LoadColumn(3), ColumnName("bp")] public float BloodPressure { get; set; }
        [LoadColumn(4), ColumnName("s1")] public float S1 { get; set; }
        [LoadColumn(5), ColumnName("s2")] public float S2 { get; set; }
        [LoadColumn(6), ColumnName("s3")] public float S3 { get; set; }
        [LoadColumn(7), ColumnName("s4")] public float S4 { get; set; }
        [LoadColumn(8), ColumnName("s5")] public float S5 { get; set; }
        [LoadColumn(9), ColumnName("s6")] public float S6 { get; set; }
        [LoadColumn(10), ColumnName("Progression")] public float Progression { get; set; }
    }

    /// <summary>The model's prediction for one row.</summary>
    public sealed class ModelOutput
    {
        /// <summary>Predicted disease progression.</summary>
        [ColumnName("Score")] public float Score { get; set; }

        /// <summary>Lower end of the 90% prediction interval, which holds a new patient's progression with probability 0.9.</summary>
        [ColumnName("LowerBound")] public float LowerBound { get; set; }

        /// <summary>Upper end of the 90% prediction interval.</summary>
        [ColumnName("UpperBound")] public float UpperBound { get; set; }
    }

    /// <summary>Where <see cref="Predict"/> loads the model from: <c>MLModel.zip</c> in the training project's folder by default.</summary>
    public static string ModelPath { get; set; } = ExamplePaths.ModelPath(Array.Empty<string>());

    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> Engine = new(CreatePredictionEngine, isThreadSafe: true);

    /// <summary>Reads rows of <c>diabetes.csv</c> (header row, comma-separated).</summary>
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
