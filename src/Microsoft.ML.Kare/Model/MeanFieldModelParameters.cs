using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Onnx;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Kare;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;

// This is for deserialization from a model repository.
[assembly: LoadableClass(typeof(MeanFieldModelParameters), null, typeof(SignatureLoadModel),
    "Mean-Field Two-Timescale Regression Executor",
    MeanFieldModelParameters.LoaderSignature)]

namespace Microsoft.ML.Kare;

/// <summary>
/// Model parameters for <c>MeanFieldRegressionTrainer</c> (Microsoft.ML.Kare.Trainers): a two-layer network
/// f(x) = LabelMean + LabelScale · (1/m)·Σ_j a_j σ(w_j·(z, 1)), z = (x − FeatureMeans)/FeatureScales, whose first layer
/// was trained by mean-field Langevin dynamics and whose second layer is the exact ridge solution.
/// </summary>
/// <remarks>
/// Scoring runs in plain managed code (no libtorch), is thread-safe and allocates nothing per row. A row with a
/// missing or non-finite feature scores NaN. Pipelines that end in the model export to ONNX with ML.NET's converter
/// (the score, computed in float32).
/// </remarks>
public sealed class MeanFieldModelParameters : ModelParametersBase<float>, IValueMapper, ISingleCanSaveOnnx
{
    internal const string LoaderSignature = "MeanFieldRegressionExec";
    internal const string RegistrationName = "MeanFieldRegressionPredictor";

    /// <summary>Name of the binary stream that holds the first layer W.</summary>
    internal const string FirstLayerStreamName = "FirstLayer.bin";

    /// <summary>Name of the binary stream that holds the second layer a.</summary>
    internal const string SecondLayerStreamName = "SecondLayer.bin";

    // Bounds that keep a corrupted file from asking for absurd allocations; the stream length bounds them further.
    private const int MaximumInputCount = 1 << 24;
    private const int MaximumParticleCount = 1 << 24;

    /// <summary>The first model version that stores a SHA-256 digest after the model's fields and after each stored vector.</summary>
    internal const uint IntegrityVersion = 0x00010002;

    /// <summary>The model's name in messages (and in <see cref="ModelIntegrity"/>'s).</summary>
    private const string ModelName = "mean-field";

    // Particles scored per block of the stack buffer in Score.
    private const int ScoringBlock = 256;

    private readonly double[] _firstLayer;
    private readonly double[] _secondLayer;
    private readonly double[] _featureMeans;
    private readonly double[] _featureScales;
    private readonly MeanFieldStepSummary[] _trainingCurve;

    // The first layer folded with the feature standardisation (w_jk/s_k and b_j − Σ_k w_jk μ_k/s_k), so that scoring
    // reads raw features directly and needs no per-row buffer.
    private readonly double[] _foldedWeights;
    private readonly double[] _foldedBiases;

    private static VersionInfo GetVersionInfo()
    {
        return new VersionInfo(
            modelSignature: "MFTTREGR",
            //verWrittenCur: 0x00010001, // Initial
            verWrittenCur: 0x00010002, // SHA-256 digests of the fields and of each stored vector
            verReadableCur: 0x00010002,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(MeanFieldModelParameters).Assembly.FullName);
    }

    /// <summary>Creates model parameters from a finished fit.</summary>
    internal MeanFieldModelParameters(IHostEnvironment env, MeanFieldFitResult result)
        : base(env, RegistrationName)
    {
        Host.CheckValue(result, nameof(result));
        Host.CheckValue(result.TrainingCurve, nameof(result.TrainingCurve));
        InputCount = result.InputCount;
        ParticleCount = result.ParticleCount;
        Activation = result.Activation;
        _firstLayer = result.FirstLayer;
        _secondLayer = result.SecondLayer;
        _featureMeans = result.FeatureMeans;
        _featureScales = result.FeatureScales;
        LabelMean = result.LabelMean;
        LabelScale = result.LabelScale;
        _trainingCurve = new MeanFieldStepSummary[result.TrainingCurve.Count];
        for (int i = 0; i < _trainingCurve.Length; i++)
            _trainingCurve[i] = result.TrainingCurve[i];
        string? problem = FindProblem();
        Host.CheckParam(problem is null, nameof(result), problem);
        (_foldedWeights, _foldedBiases) = Fold();
    }

    private MeanFieldModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx)
    {
        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // from version 0x00010002 on: long: byte count b of the fields below, from d through the training curve
        // int: number of input features d
        // int: number of particles m
        // int: activation σ (KareActivation)
        // double[d]: feature means
        // double[d]: feature scales
        // double: label mean
        // double: label scale
        // int: number of training curve points c
        // (int, double, double)[c]: training curve (step, objective, training error)
        // from version 0x00010002 on: byte[32]: SHA-256 of the b bytes from d through the training curve
        // Stream FirstLayer.bin: long: m·(d+1); double[m·(d+1)]: W row-major (particle j: d weights, then its bias);
        //     from 0x00010002 on: byte[32]: SHA-256 of the 8 + 8·m·(d+1) bytes before it
        // Stream SecondLayer.bin: long: m; double[m]: a; from 0x00010002 on: byte[32]: SHA-256 of the 8 + 8·m bytes before it
        // The digests catch corruption that the zip container does not (ML.NET's loader does not verify the zip entries'
        // CRC-32): a damaged file fails with "The mean-field model file is corrupted" instead of loading as a different
        // model. From version 0x00010002 on, the fields and each vector are checked against their digests before any
        // value is used.
        bool hasDigests = ctx.Header.ModelVerWritten >= IntegrityVersion;
        BinaryReader reader = hasDigests ? ModelIntegrity.ReadFields(Host, ctx.Reader, ModelName) : ctx.Reader;
        InputCount = reader.ReadInt32();
        Host.CheckDecode(InputCount > 0 && InputCount <= MaximumInputCount && 16L * InputCount <= ModelIntegrity.Remaining(reader),
            $"The mean-field model's number of input features ({InputCount}) is invalid or larger than the model file allows.");
        ParticleCount = reader.ReadInt32();
        Host.CheckDecode(ParticleCount > 0 && ParticleCount <= MaximumParticleCount
            && (long)ParticleCount * (InputCount + 1) <= Array.MaxLength,
            $"The mean-field model's number of particles ({ParticleCount}) is invalid.");
        int activation = reader.ReadInt32();
        Host.CheckDecode(Enum.IsDefined(typeof(KareActivation), activation), $"The mean-field model's activation ({activation}) is unknown.");
        Activation = (KareActivation)activation;
        _featureMeans = ModelIntegrity.ReadDoubles(Host, reader, InputCount, ModelName);
        _featureScales = ModelIntegrity.ReadDoubles(Host, reader, InputCount, ModelName);
        LabelMean = reader.ReadDouble();
        LabelScale = reader.ReadDouble();
        int curveCount = reader.ReadInt32();
        Host.CheckDecode(curveCount >= 0 && 20L * curveCount <= ModelIntegrity.Remaining(reader),
            $"The mean-field model's training curve length ({curveCount}) is invalid or larger than the model file allows.");
        _trainingCurve = new MeanFieldStepSummary[curveCount];
        for (int i = 0; i < curveCount; i++)
            _trainingCurve[i] = new MeanFieldStepSummary(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble());
        if (hasDigests)
            ModelIntegrity.EndFields(Host, reader, ModelName);
        _firstLayer = ModelIntegrity.LoadVector(Host, ctx, FirstLayerStreamName, ParticleCount * (InputCount + 1), hasDigests,
            ModelName, "the model needs");
        _secondLayer = ModelIntegrity.LoadVector(Host, ctx, SecondLayerStreamName, ParticleCount, hasDigests, ModelName, "the model needs");

        string? problem = FindProblem();
        Host.CheckDecode(problem is null, problem);
        (_foldedWeights, _foldedBiases) = Fold();
    }

    internal static MeanFieldModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        return new MeanFieldModelParameters(env, ctx);
    }

    /// <inheritdoc/>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());

        // *** Binary format *** (see the loading constructor; this writes the current version)
        ModelIntegrity.WriteFields(ctx.Writer, WriteFields);
        ctx.SaveBinaryStream(FirstLayerStreamName, w => ModelIntegrity.WriteVector(w, _firstLayer));
        ctx.SaveBinaryStream(SecondLayerStreamName, w => ModelIntegrity.WriteVector(w, _secondLayer));
    }

    /// <summary>The fields of the main stream, from d through the training curve.</summary>
    private void WriteFields(BinaryWriter writer)
    {
        writer.Write(InputCount);
        writer.Write(ParticleCount);
        writer.Write((int)Activation);
        ModelIntegrity.WriteDoubles(writer, _featureMeans);
        ModelIntegrity.WriteDoubles(writer, _featureScales);
        writer.Write(LabelMean);
        writer.Write(LabelScale);
        writer.Write(_trainingCurve.Length);
        foreach (MeanFieldStepSummary point in _trainingCurve)
        {
            writer.Write(point.Step);
            writer.Write(point.Objective);
            writer.Write(point.TrainingError);
        }
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <summary>Number of input features d.</summary>
    public int InputCount { get; }

    /// <summary>Number of particles (hidden units) m.</summary>
    public int ParticleCount { get; }

    /// <summary>The activation σ of the hidden units.</summary>
    public KareActivation Activation { get; }

    /// <summary>
    /// The first layer W, m×(d+1) row-major, acting on standardised features: particle j's d weights, then its bias.
    /// </summary>
    public IReadOnlyList<double> FirstLayerWeights => new ReadOnlyCollection<double>(_firstLayer);

    /// <summary>The second layer a (length m), in standardised label units; the network divides Σ_j a_j σ_j by m.</summary>
    public IReadOnlyList<double> SecondLayerWeights => new ReadOnlyCollection<double>(_secondLayer);

    /// <summary>Per-feature means subtracted before the network sees a row.</summary>
    public IReadOnlyList<double> FeatureMeans => new ReadOnlyCollection<double>(_featureMeans);

    /// <summary>Per-feature scales (positive) that centred features are divided by.</summary>
    public IReadOnlyList<double> FeatureScales => new ReadOnlyCollection<double>(_featureScales);

    /// <summary>Mean of the training labels, added back to every prediction.</summary>
    public double LabelMean { get; }

    /// <summary>Scale (positive) of the training labels; the network predicts in units of it.</summary>
    public double LabelScale { get; }

    /// <summary>Objective and training error at evenly spaced steps of training, from initialisation to the last step.</summary>
    public IReadOnlyList<MeanFieldStepSummary> TrainingCurve => new ReadOnlyCollection<MeanFieldStepSummary>(_trainingCurve);

    DataViewType IValueMapper.InputType => new VectorDataViewType(NumberDataViewType.Single, InputCount);

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The mean-field model's input must be a vector of Single.");
        Host.Check(typeof(TOut) == typeof(float), "The mean-field model's output is a Single.");
        ValueMapper<VBuffer<float>, float> mapper = (in VBuffer<float> src, ref float dst) =>
        {
            if (src.Length != InputCount)
                throw Host.Except($"The feature vector has {src.Length} values, but this mean-field model was trained on {InputCount} features.");
            dst = (float)Score(src.GetValues(), src.IsDense ? default : src.GetIndices(), src.IsDense);
        };
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        MeanFieldGraph.Predictions(new OnnxGraph(ctx, "mean-field regression"), featureColumn, Activation, _firstLayer, _secondLayer,
            _featureMeans, _featureScales, LabelMean, LabelScale, ScoreColumnGraph.Score(outputNames));
        return true;
    }

    /// <summary>
    /// The prediction for one row of raw features: dense (<paramref name="values"/> of length d) or sparse (values at
    /// <paramref name="indices"/>, zeros elsewhere). NaN when a feature is not finite. Thread-safe.
    /// </summary>
    internal double Score(ReadOnlySpan<float> values, ReadOnlySpan<int> indices, bool dense)
    {
        foreach (float value in values)
        {
            if (!float.IsFinite(value))
                return double.NaN;
        }
        int d = InputCount;
        Span<double> preactivation = stackalloc double[ScoringBlock];
        Span<double> activation = stackalloc double[ScoringBlock];
        Span<double> slope = stackalloc double[ScoringBlock];
        double sum = 0;
        for (int start = 0; start < ParticleCount; start += ScoringBlock)
        {
            int count = Math.Min(ScoringBlock, ParticleCount - start);
            for (int b = 0; b < count; b++)
            {
                int j = start + b;
                ReadOnlySpan<double> w = _foldedWeights.AsSpan(j * d, d);
                double h = _foldedBiases[j];
                if (dense)
                {
                    for (int k = 0; k < d; k++)
                        h += w[k] * values[k];
                }
                else
                {
                    for (int i = 0; i < values.Length; i++)
                        h += w[indices[i]] * values[i];
                }
                preactivation[b] = h;
            }
            ManagedActivations.Apply(Activation, preactivation[..count], activation[..count], slope[..count]);
            for (int b = 0; b < count; b++)
                sum += _secondLayer[start + b] * activation[b];
        }
        return LabelMean + LabelScale * sum / ParticleCount;
    }

    /// <summary>Folds the feature standardisation into the first layer (see the fields).</summary>
    private (double[] Weights, double[] Biases) Fold()
    {
        int d = InputCount;
        var weights = new double[ParticleCount * d];
        var biases = new double[ParticleCount];
        for (int j = 0; j < ParticleCount; j++)
        {
            double bias = _firstLayer[j * (d + 1) + d];
            for (int k = 0; k < d; k++)
            {
                double w = _firstLayer[j * (d + 1) + k] / _featureScales[k];
                weights[j * d + k] = w;
                bias -= w * _featureMeans[k];
            }
            biases[j] = bias;
        }
        return (weights, biases);
    }

    /// <summary>Describes the first inconsistency among the model's values, or returns null when there is none.</summary>
    private string? FindProblem()
    {
        if (InputCount <= 0)
            return $"The mean-field model needs at least one input feature, got {InputCount}.";
        if (ParticleCount <= 0)
            return $"The mean-field model needs at least one particle, got {ParticleCount}.";
        if (!Enum.IsDefined(Activation))
            return $"The mean-field model's activation ({Activation}) is unknown.";
        if (_firstLayer is null || _firstLayer.Length != (long)ParticleCount * (InputCount + 1))
            return $"The mean-field model needs {(long)ParticleCount * (InputCount + 1)} first-layer weights, got {_firstLayer?.Length ?? 0}.";
        if (_secondLayer is null || _secondLayer.Length != ParticleCount)
            return $"The mean-field model needs {ParticleCount} second-layer weights, got {_secondLayer?.Length ?? 0}.";
        if (_featureMeans is null || _featureMeans.Length != InputCount)
            return $"The mean-field model needs {InputCount} feature means, got {_featureMeans?.Length ?? 0}.";
        if (_featureScales is null || _featureScales.Length != InputCount)
            return $"The mean-field model needs {InputCount} feature scales, got {_featureScales?.Length ?? 0}.";
        int bad = ModelIntegrity.FirstNonFinite(_firstLayer);
        if (bad >= 0)
            return $"The mean-field model's first-layer weight {bad} is not finite.";
        bad = ModelIntegrity.FirstNonFinite(_secondLayer);
        if (bad >= 0)
            return $"The mean-field model's second-layer weight {bad} is not finite.";
        bad = ModelIntegrity.FirstNonFinite(_featureMeans);
        if (bad >= 0)
            return $"The mean-field model's mean of feature {bad} is not finite.";
        for (int k = 0; k < _featureScales.Length; k++)
        {
            if (!(_featureScales[k] > 0 && double.IsFinite(_featureScales[k])))
                return $"The mean-field model's scale of feature {k} ({_featureScales[k]}) is not a positive finite number.";
        }
        if (!double.IsFinite(LabelMean))
            return "The mean-field model's label mean is not finite.";
        if (!(LabelScale > 0 && double.IsFinite(LabelScale)))
            return $"The mean-field model's label scale ({LabelScale}) is not a positive finite number.";
        foreach (MeanFieldStepSummary point in _trainingCurve)
        {
            if (point.Step < 0)
                return $"The mean-field model's training curve has a negative step ({point.Step}).";
        }
        return null;
    }
}
