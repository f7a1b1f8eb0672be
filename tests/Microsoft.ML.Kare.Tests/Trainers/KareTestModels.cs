using System.Collections.Generic;
using System.Linq;
using System;
using Microsoft.ML.Data;

namespace Microsoft.ML.Kare.Tests.Trainers;

/// <summary>Hand-made KARE models and data for tests that need no training backend.</summary>
internal static class KareTestModels
{
    public const string FeatureColumn = "Features";

    /// <summary>A fit result with small random θ and β, as the backend would return it.</summary>
    public static KareFitResult CreateFitResult(int inputCount, int[] hiddenWidths, KareActivation activation, int seed)
    {
        var architecture = new KareNetworkArchitecture(inputCount, hiddenWidths, activation);
        var random = new Random(seed);
        int p = (int)architecture.ParameterCount;
        return new KareFitResult
        {
            Architecture = architecture,
            Parameters = Gaussian(random, p, 0.5),
            PrimalWeights = Gaussian(random, p, 0.1),
            OutputCount = 1,
            FeatureMeans = Gaussian(random, inputCount, 1.0),
            FeatureScales = Enumerable.Range(0, inputCount).Select(_ => 0.5 + random.NextDouble()).ToArray(),
            TargetMeans = new[] { 3.25 },
            TargetScales = new[] { 1.75 },
            RelativeRidge = 1e-3,
            Ridge = 2.5e-4,
            SelectedEpoch = 7,
            TrainingCurve = new[]
            {
                new KareEpochSummary(0, 0.9, 0.8, 1e-2),
                new KareEpochSummary(1, 0.5, double.NaN, double.NaN),
                new KareEpochSummary(2, 0.25, 0.3, 1e-3),
            },
        };
    }

    public static KareRegressionModelParameters CreateModel(MLContext mlContext, int inputCount = 4, int[]? hiddenWidths = null,
        KareActivation activation = KareActivation.Gelu, int seed = 1)
        => new KareRegressionModelParameters(mlContext, CreateFitResult(inputCount, hiddenWidths ?? new[] { 6, 5 }, activation, seed));

    /// <summary>Rows of a single known-size feature vector column named <see cref="FeatureColumn"/>.</summary>
    public static IDataView CreateFeatureData(MLContext mlContext, IReadOnlyList<float[]> rows, int inputCount)
    {
        SchemaDefinition schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, inputCount);
        return mlContext.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow { Features = r }), schema);
    }

    public static float[][] RandomRows(int count, int inputCount, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, inputCount).Select(_ => (float)(3 * random.NextDouble() - 1.5)).ToArray())
            .ToArray();
    }

    public static RegressionPredictionTransformer<KareRegressionModelParameters> CreateTransformer(MLContext mlContext,
        KareRegressionModelParameters model)
    {
        IDataView schemaSource = CreateFeatureData(mlContext, Array.Empty<float[]>(), model.Architecture.InputCount);
        return KareRegressionTrainer.CreateTransformer(mlContext, model, schemaSource.Schema, FeatureColumn);
    }

    public static float[] Score(MLContext mlContext, ITransformer transformer, IReadOnlyList<float[]> rows, int inputCount)
        => transformer.Transform(CreateFeatureData(mlContext, rows, inputCount)).GetColumn<float>("Score").ToArray();

    private static double[] Gaussian(Random random, int count, double scale)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            double u = 1 - random.NextDouble();
            values[i] = scale * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble());
        }
        return values;
    }

    public sealed class FeatureRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
