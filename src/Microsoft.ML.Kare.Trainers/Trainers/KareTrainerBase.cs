using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Kare;

/// <summary>
/// The base of the KARE trainers (<see cref="KareRegressionTrainer"/>, <see cref="KareBinaryTrainer"/> and
/// <see cref="KareMulticlassTrainer"/>), as ML.NET's own trainer families share theirs: the checked copy of the options,
/// the trainer's characteristics, and the training template (check the columns, read the rows, run the KARE backend,
/// turn its result into the task's model). A trainer adds its label column, its checks and its model.
/// </summary>
/// <typeparam name="TTransformer">The prediction transformer the trainer returns.</typeparam>
/// <typeparam name="TModel">The model parameters the transformer scores with.</typeparam>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class KareTrainerBase<TTransformer, TModel, TOptions> : TrainerEstimatorBase<TTransformer, TModel>
    where TTransformer : ISingleFeaturePredictionTransformer<TModel>
    where TModel : class
    where TOptions : KareTrainerOptionsBase, new()
{
    /// <summary>Checks <paramref name="options"/> (naming the option that is wrong) and keeps a copy of them.</summary>
    /// <param name="env">The host environment.</param>
    /// <param name="options">The options; the trainer copies them, so later changes do not affect it.</param>
    /// <param name="loadName">The trainer's load name, which names its host.</param>
    /// <param name="labelColumn">The label column the trainer accepts, from its name.</param>
    private protected KareTrainerBase(IHostEnvironment env, TOptions options, string loadName, Func<string, SchemaShape.Column> labelColumn)
        : base(Contracts.CheckRef(env, nameof(env)).Register(loadName),
            TrainerUtils.MakeR4VecFeature(KareTraining.CheckColumnOptions(env, options).FeatureColumnName),
            labelColumn(options.LabelColumnName),
            TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
    {
        KareTraining.CheckOptions(Host, options);
        TrainerOptions = KareTraining.Copy(options);
    }

    /// <summary>The trainer's own copy of its options.</summary>
    internal TOptions TrainerOptions { get; }

    /// <summary>Normalization is not needed: the trainer standardises the features (and targets) itself; it reads the data once.</summary>
    public override TrainerInfo Info { get; } = new TrainerInfo(normalization: false, caching: false);

    /// <summary>The options of the overloads that take the key hyperparameters; the other options take their defaults.</summary>
    private protected static TOptions KeyOptions(string labelColumnName, string featureColumnName, string? exampleWeightColumnName,
        int numberOfEpochs, double learningRate, int[]? hiddenLayerWidths) => new()
    {
        LabelColumnName = labelColumnName,
        FeatureColumnName = featureColumnName,
        ExampleWeightColumnName = exampleWeightColumnName,
        NumberOfEpochs = numberOfEpochs,
        LearningRate = learningRate,
        HiddenLayerWidths = hiddenLayerWidths ?? KareTrainerDefaults.CreateHiddenLayerWidths(),
    };

    /// <inheritdoc/>
    protected sealed override TModel TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        RoleMappedData data = context.TrainingSet;
        KareTargetEncoding targets = CheckLabel(data);
        data.CheckFeatureFloatVector(out int featureCount);
        data.CheckOptFloatWeight();

        using IChannel ch = Host.Start("Training");
        KareTrainingData rows = KareTraining.ReadRows(Host, ch, data, featureCount, targets);
        CheckRows(ch, data, rows);
        KareFitResult result = KareTraining.Fit(Host, ch, rows, TrainerOptions, ComputesLeaveOneOutPredictions);
        return CreateModel(ch, rows, result);
    }

    /// <summary>Checks the label column's type; returns how a label becomes the row's regression targets.</summary>
    private protected abstract KareTargetEncoding CheckLabel(RoleMappedData data);

    /// <summary>Checks the rows read before training on them (for example that both classes are present).</summary>
    private protected virtual void CheckRows(IChannel ch, RoleMappedData data, KareTrainingData rows)
    {
    }

    /// <summary>True when the model is made from the final fit's leave-one-out predictions as well (the classifiers calibrate on them).</summary>
    private protected abstract bool ComputesLeaveOneOutPredictions { get; }

    /// <summary>The task's model from the backend's result.</summary>
    private protected abstract TModel CreateModel(IChannel ch, KareTrainingData rows, KareFitResult result);
}
