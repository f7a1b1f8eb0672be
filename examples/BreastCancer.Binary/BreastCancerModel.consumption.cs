using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Examples;

namespace BreastCancerBinary;

/// <summary>
/// Model Builder-style consumption code for the breast cancer model: the input row (one property per CSV column), the
/// output row, and helpers that load <c>MLModel.zip</c> and predict one row or a batch. Shared by the training and the
/// consumption project. Scoring a loaded KARE model needs Microsoft.ML.Kare but never loads libtorch.
/// </summary>
public static partial class BreastCancerModel
{
    /// <summary>One row of <c>breast_cancer.csv</c>: 30 measurements of a cell-nucleus image and the diagnosis.</summary>
    public sealed class ModelInput
    {
        [LoadColumn(0), ColumnName("mean_radius")] public float MeanRadius { get; set; }
        [LoadColumn(1), ColumnName("mean_texture")] public float MeanTexture { get; set; }
        [LoadColumn(2), ColumnName("mean_perimeter")] public float MeanPerimeter { get; set; }
        [LoadColumn(3), ColumnName("mean_area")] public float MeanArea { get; set; }
        [LoadColumn(4), ColumnName("mean_smoothness")] public float MeanSmoothness { get; set; }
        [LoadColumn(5), ColumnName("mean_compactness")] public float MeanCompactness { get; set; }
        [LoadColumn(6), ColumnName("mean_concavity")] public float MeanConcavity { get; set; }
        [LoadColumn(7), ColumnName("mean_concave_points")] public float MeanConcavePoints { get; set; }
        [LoadColumn(8), ColumnName("mean_symmetry")] public float MeanSymmetry { get; set; }
        [LoadColumn(9), ColumnName("mean_fractal_dimension")] public float MeanFractalDimension { get; set; }
        [LoadColumn(10), ColumnName("radius_error")] public float RadiusError { get; set; }
        [LoadColumn(11), ColumnName("texture_error")] public float TextureError { get; set; }
        [LoadColumn(12), ColumnName("perimeter_error")] public float PerimeterError { get; set; }
        [LoadColumn(13), ColumnName("area_error")] public float AreaError { get; set; }
        [LoadColumn(14), ColumnName("smoothness_error")] public float SmoothnessError { get; set; }
        [LoadColumn(15), ColumnName("compactness_error")] public float CompactnessError { get; set; }
        [LoadColumn(16), ColumnName("concavity_error")] public float ConcavityError { get; set; }
        [LoadColumn(17), ColumnName("concave_points_error")] public float ConcavePointsError { get; set; }
        [LoadColumn(18), ColumnName("symmetry_error")] public float SymmetryError { get; set; }
        [LoadColumn(19), ColumnName("fractal_dimension_error")] public float FractalDimensionError { get; set; }
        [LoadColumn(20), ColumnName("worst_radius")] public float WorstRadius { get; set; }
        [LoadColumn(21), ColumnName("worst_texture")] public float WorstTexture { get; set; }
        [LoadColumn(22), ColumnName("worst_perimeter")] public float WorstPerimeter { get; set; }
        [LoadColumn(23), ColumnName("worst_area")] public float WorstArea { get; set; }
        [LoadColumn(24), ColumnName("worst_smoothness")] public float WorstSmoothness { get; set; }
        [LoadColumn(25), ColumnName("worst_compactness")] public float WorstCompactness { get; set; }
        [LoadColumn(26), ColumnName("worst_concavity")] public float WorstConcavity { get; set; }
        [LoadColumn(27), ColumnName("worst_concave_points")] public float WorstConcavePoints { get; set; }
        [LoadColumn(28), ColumnName("worst_symmetry")] public float WorstSymmetry { get; set; }
        [LoadColumn(29), ColumnName("worst_fractal_dimension")] public float WorstFractalDimension { get; set; }
        [LoadColumn(30), ColumnName("Malignant")] public bool Malignant { get; set; }
    }

    /// <summary>The model's prediction for one row.</summary>
    public sealed class ModelOutput
    {
        /// <summary>Whether the tumour is predicted malignant.</summary>
        [ColumnName("PredictedLabel")] public bool PredictedMalignant { get; set; }

        /// <summary>Calibrated probability that the tumour is malignant.</summary>
        [ColumnName("Probability")] public float Probability { get; set; }

        /// <summary>Raw score of the model (positive for malignant).</summary>
        [ColumnName("Score")] public float Score { get; set; }
    }

    /// <summary>Where <see cref="Predict"/> loads the model from: <c>MLModel.zip</c> in the training project's folder by default.</summary>
    public static string ModelPath { get; set; } = ExamplePaths.ModelPath(Array.Empty<string>());

    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> Engine = new(CreatePredictionEngine, isThreadSafe: true);

    /// <summary>Reads rows of <c>breast_cancer.csv</c> (header row, comma-separated; the label is 1 or 0).</summary>
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
