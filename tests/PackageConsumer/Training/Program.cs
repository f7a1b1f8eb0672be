using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Kare.PackageConsumer;
using Microsoft.ML;
using Microsoft.ML.Kare;

// Trains a regression, a binary and a multiclass KARE model from the Microsoft.ML.Kare.Trainers package, saves each
// to MODEL_FOLDER/<task>.zip with the scores of MODEL_FOLDER/rows.csv in <task>.expected.csv, loads each back and checks
// that a PredictionEngine and Transform give the same scores. Usage: TrainingConsumer MODEL_FOLDER
if (args.Length != 1)
{
    Console.Error.WriteLine("Usage: TrainingConsumer MODEL_FOLDER");
    return 2;
}
string folder = Directory.CreateDirectory(args[0]).FullName;
Assembly trainers = typeof(KareRegressionTrainer).Assembly;
Console.WriteLine($"{trainers.GetName().Name} {trainers.GetName().Version}; {typeof(KareRegressionModelParameters).Assembly.GetName().Name}; Microsoft.ML {ConsumerModels.MicrosoftMLVersion()}");

var mlContext = new MLContext(seed: 0);
TrainingRow[] training = TrainingRow.Generate(200, seed: 1);
FeatureRow[] probe = TrainingRow.Generate(25, seed: 2).Select(r => new FeatureRow { Features = r.Features }).ToArray();
ConsumerModels.WriteRows(ConsumerModels.RowsPath(folder), probe);
IDataView data = mlContext.Data.LoadFromEnumerable(training);

bool ok = true;
foreach (string task in ConsumerTasks.All)
{
    (ITransformer model, DataViewSchema schema) = Train(mlContext, task, data);
    float[][] expected = ConsumerModels.PredictBatch(mlContext, model, task, probe);
    string path = ConsumerModels.ModelPath(folder, task);
    mlContext.Model.Save(model, schema, path);
    ConsumerModels.WriteValues(ConsumerModels.ExpectedPath(folder, task), expected);

    var loadContext = new MLContext(seed: 1);
    ITransformer loaded = loadContext.Model.Load(path, out _);
    double oneByOne = ConsumerModels.MaxDifference(expected, ConsumerModels.PredictOneByOne(loadContext, loaded, task, probe));
    double batch = ConsumerModels.MaxDifference(expected, ConsumerModels.PredictBatch(loadContext, loaded, task, probe));
    bool same = oneByOne <= 1e-6 && batch <= 1e-6;
    ok &= same;
    Console.WriteLine($"{task}: trained {model.GetType().Name}, saved {new FileInfo(path).Length} bytes, reloaded: PredictionEngine max |Δ| {oneByOne:G3}, Transform max |Δ| {batch:G3}{(same ? "" : " MISMATCH")}");
}

Console.WriteLine($"libLibTorchSharp: {string.Join(", ", ConsumerModels.MappedTorchLibraries().Where(p => p.EndsWith("libLibTorchSharp.so", StringComparison.Ordinal)).DefaultIfEmpty("not mapped"))}");
Console.WriteLine(ok ? "TrainingConsumer: trained, saved and reloaded the three models OK" : "TrainingConsumer: reloaded models score differently");
return ok ? 0 : 1;

static (ITransformer Model, DataViewSchema Schema) Train(MLContext mlContext, string task, IDataView data)
{
    // Small networks and few epochs: this checks that everything works, not how well.
    int[] widths = { 16 };
    const int epochs = 5;
    switch (task)
    {
        case ConsumerTasks.Regression:
            return (mlContext.Regression.Trainers.Kare(new KareRegressionTrainer.Options
            {
                LabelColumnName = nameof(TrainingRow.Value), HiddenLayerWidths = widths, NumberOfEpochs = epochs,
            }).Fit(data), data.Schema);
        case ConsumerTasks.Binary:
            return (mlContext.BinaryClassification.Trainers.Kare(new KareBinaryTrainer.Options
            {
                LabelColumnName = nameof(TrainingRow.Positive), HiddenLayerWidths = widths, NumberOfEpochs = epochs,
            }).Fit(data), data.Schema);
        default:
            IDataView keyed = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TrainingRow.Species)).Fit(data).Transform(data);
            return (mlContext.MulticlassClassification.Trainers.Kare(new KareMulticlassTrainer.Options
            {
                HiddenLayerWidths = widths, NumberOfEpochs = epochs,
            }).Fit(keyed), keyed.Schema);
    }
}

/// <summary>A training row: four features and a label for each task.</summary>
internal sealed class TrainingRow
{
    [Microsoft.ML.Data.VectorType(FeatureRow.Size)]
    public float[] Features { get; set; } = new float[FeatureRow.Size];

    public float Value { get; set; }

    public bool Positive { get; set; }

    public string Species { get; set; } = "";

    public static TrainingRow[] Generate(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<TrainingRow>(count);
        for (int i = 0; i < count; i++)
        {
            float[] x = Enumerable.Range(0, FeatureRow.Size).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
            double noise = 0.05 * (random.NextDouble() - 0.5);
            rows.Add(new TrainingRow
            {
                Features = x,
                Value = (float)(Math.Sin(2 * x[0]) + x[1] * x[2] + noise),
                Positive = x[0] + x[1] - 0.5 * x[3] + noise > 0,
                Species = x[0] > 0.3 ? "setosa" : x[1] > 0 ? "versicolor" : "virginica",
            });
        }
        return rows.ToArray();
    }
}
