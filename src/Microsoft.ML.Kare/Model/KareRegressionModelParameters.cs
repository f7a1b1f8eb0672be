using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Backend;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

// This is for deserialization from a model repository.
[assembly: LoadableClass(typeof(KareRegressionModelParameters), null, typeof(SignatureLoadModel),
    "KARE Regression Executor",
    KareRegressionModelParameters.LoaderSignature)]

namespace Microsoft.ML.Kare;

/// <summary>
/// Model parameters for <see cref="KareRegressionTrainer"/>: kernel ridge regression with the empirical neural tangent
/// kernel of a network whose kernel was trained with KARE, stored in primal form.
/// </summary>
/// <remarks>
/// The prediction for a row x is <c>LabelMean + LabelScale · ∇θ f(z; θ)ᵀ β</c>, with z = (x − FeatureMeans) / FeatureScales,
/// f the network described by <see cref="Architecture"/> with parameters θ = <see cref="NetworkParameters"/>, and
/// β = <see cref="PrimalWeights"/>. It is one forward-mode Jacobian-vector product of the network, computed in plain
/// managed code: scoring a trained or loaded model needs neither the training data nor libtorch.
/// </remarks>
public sealed class KareRegressionModelParameters : ModelParametersBase<float>, IValueMapper
{
    internal const string LoaderSignature = "KareRegressionExec";
    internal const string RegistrationName = "KareRegressionPredictor";

    /// <summary>Name of the binary stream that holds θ.</summary>
    internal const string NetworkParametersStreamName = "NetworkParameters.bin";

    /// <summary>Name of the binary stream that holds β.</summary>
    internal const string PrimalWeightsStreamName = "PrimalWeights.bin";

    // Bounds that keep a corrupted file from asking for absurd allocations; the stream length bounds them further.
    private const int MaximumInputCount = 1 << 24;
    private const int MaximumWidth = 1 << 24;
    private const int MaximumDepth = 1024;

    private readonly double[] _parameters;
    private readonly double[] _primalWeights;
    private readonly double[] _featureMeans;
    private readonly double[] _featureScales;
    private readonly KareEpochSummary[] _trainingCurve;
    private readonly PrimalScorer _scorer;
    private readonly VectorDataViewType _inputType;

    private static VersionInfo GetVersionInfo()
    {
        return new VersionInfo(
            modelSignature: "KAREREGR",
            verWrittenCur: 0x00010001, // Initial
            verReadableCur: 0x00010001,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(KareRegressionModelParameters).Assembly.FullName);
    }

    /// <summary>Creates model parameters from a finished fit (one output).</summary>
    internal KareRegressionModelParameters(IHostEnvironment env, KareFitResult result)
        : base(env, RegistrationName)
    {
        Host.CheckValue(result, nameof(result));
        Host.CheckParam(result.OutputCount == 1 && result.TargetMeans.Length == 1 && result.TargetScales.Length == 1,
            nameof(result), "A regression model has exactly one output.");
        Host.CheckValue(result.TrainingCurve, nameof(result.TrainingCurve));

        var trainingCurve = new KareEpochSummary[result.TrainingCurve.Count];
        for (int i = 0; i < trainingCurve.Length; i++)
            trainingCurve[i] = result.TrainingCurve[i];

        string? problem = FindProblem(result.Architecture, result.Parameters, result.PrimalWeights, result.FeatureMeans,
            result.FeatureScales, result.TargetMeans[0], result.TargetScales[0], result.RelativeRidge, result.Ridge,
            result.SelectedEpoch, trainingCurve);
        Host.CheckParam(problem is null, nameof(result), problem);

        Architecture = result.Architecture;
        _parameters = result.Parameters;
        _primalWeights = result.PrimalWeights;
        _featureMeans = result.FeatureMeans;
        _featureScales = result.FeatureScales;
        LabelMean = result.TargetMeans[0];
        LabelScale = result.TargetScales[0];
        RelativeRidge = result.RelativeRidge;
        Ridge = result.Ridge;
        SelectedEpoch = result.SelectedEpoch;
        _trainingCurve = trainingCurve;
        (_scorer, _inputType) = CreateScorer();
    }

    private KareRegressionModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx)
    {
        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // int: number of input features d
        // int: number of hidden layers L
        // int[L]: hidden layer widths, input side first
        // int: activation (KareActivation)
        // double[d]: feature means
        // double[d]: feature scales
        // double: label mean
        // double: label scale
        // double: relative ridge λ̃
        // double: ridge λ
        // int: selected epoch
        // int: number of training curve points m
        // (int, double, double, double)[m]: training curve (epoch, KARE ρ, validation error, validation relative ridge)
        // Stream NetworkParameters.bin: long: P; double[P]: θ
        // Stream PrimalWeights.bin: long: P; double[P]: β

        BinaryReader reader = ctx.Reader;
        int inputCount = reader.ReadInt32();
        Host.CheckDecode(inputCount > 0 && inputCount <= MaximumInputCount && 16L * inputCount <= Remaining(reader),
            $"The KARE model's number of input features ({inputCount}) is invalid or larger than the model file allows.");
        int depth = reader.ReadInt32();
        Host.CheckDecode(depth > 0 && depth <= MaximumDepth && 4L * depth <= Remaining(reader),
            $"The KARE model's number of hidden layers ({depth}) is invalid or larger than the model file allows.");
        var widths = new int[depth];
        for (int l = 0; l < depth; l++)
        {
            widths[l] = reader.ReadInt32();
            Host.CheckDecode(widths[l] > 0 && widths[l] <= MaximumWidth, $"The KARE model's hidden layer {l} has an invalid width ({widths[l]}).");
        }
        int activation = reader.ReadInt32();
        Host.CheckDecode(Enum.IsDefined(typeof(KareActivation), activation), $"The KARE model's activation ({activation}) is unknown.");
        Architecture = new KareNetworkArchitecture(inputCount, widths, (KareActivation)activation);

        _featureMeans = ReadDoubles(reader, inputCount);
        _featureScales = ReadDoubles(reader, inputCount);
        LabelMean = reader.ReadDouble();
        LabelScale = reader.ReadDouble();
        RelativeRidge = reader.ReadDouble();
        Ridge = reader.ReadDouble();
        SelectedEpoch = reader.ReadInt32();

        int curveCount = reader.ReadInt32();
        Host.CheckDecode(curveCount >= 0 && 28L * curveCount <= Remaining(reader),
            $"The KARE model's training curve length ({curveCount}) is invalid or larger than the model file allows.");
        _trainingCurve = new KareEpochSummary[curveCount];
        for (int i = 0; i < curveCount; i++)
            _trainingCurve[i] = new KareEpochSummary(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());

        long parameterCount = Architecture.ParameterCount;
        Host.CheckDecode(parameterCount <= Array.MaxLength,
            $"The KARE model's network has {parameterCount} parameters, more than an array can hold.");
        _parameters = LoadVector(ctx, NetworkParametersStreamName, (int)parameterCount);
        _primalWeights = LoadVector(ctx, PrimalWeightsStreamName, (int)parameterCount);

        string? problem = FindProblem(Architecture, _parameters, _primalWeights, _featureMeans, _featureScales,
            LabelMean, LabelScale, RelativeRidge, Ridge, SelectedEpoch, _trainingCurve);
        Host.CheckDecode(problem is null, problem);
        (_scorer, _inputType) = CreateScorer();
    }

    internal static KareRegressionModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        return new KareRegressionModelParameters(env, ctx);
    }

    /// <inheritdoc/>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());

        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // int: number of input features d
        // int: number of hidden layers L
        // int[L]: hidden layer widths, input side first
        // int: activation (KareActivation)
        // double[d]: feature means
        // double[d]: feature scales
        // double: label mean
        // double: label scale
        // double: relative ridge λ̃
        // double: ridge λ
        // int: selected epoch
        // int: number of training curve points m
        // (int, double, double, double)[m]: training curve (epoch, KARE ρ, validation error, validation relative ridge)
        // Stream NetworkParameters.bin: long: P; double[P]: θ
        // Stream PrimalWeights.bin: long: P; double[P]: β

        BinaryWriter writer = ctx.Writer;
        writer.Write(Architecture.InputCount);
        writer.Write(Architecture.Depth);
        foreach (int width in Architecture.HiddenWidths)
            writer.Write(width);
        writer.Write((int)Architecture.Activation);
        WriteDoubles(writer, _featureMeans);
        WriteDoubles(writer, _featureScales);
        writer.Write(LabelMean);
        writer.Write(LabelScale);
        writer.Write(RelativeRidge);
        writer.Write(Ridge);
        writer.Write(SelectedEpoch);
        writer.Write(_trainingCurve.Length);
        foreach (KareEpochSummary point in _trainingCurve)
        {
            writer.Write(point.Epoch);
            writer.Write(point.Kare);
            writer.Write(point.ValidationError);
            writer.Write(point.ValidationRelativeRidge);
        }

        ctx.SaveBinaryStream(NetworkParametersStreamName, w => WriteVector(w, _parameters));
        ctx.SaveBinaryStream(PrimalWeightsStreamName, w => WriteVector(w, _primalWeights));
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <summary>Shape of the network whose neural tangent kernel the model uses.</summary>
    public KareNetworkArchitecture Architecture { get; }

    /// <summary>The trained network parameters θ, in the layout described by <see cref="KareNetworkArchitecture"/>.</summary>
    public IReadOnlyList<double> NetworkParameters => new ReadOnlyCollection<double>(_parameters);

    /// <summary>
    /// The kernel ridge regression weights β in parameter space (same length and layout as <see cref="NetworkParameters"/>),
    /// in standardised label units.
    /// </summary>
    public IReadOnlyList<double> PrimalWeights => new ReadOnlyCollection<double>(_primalWeights);

    /// <summary>Per-feature means subtracted before the network sees a row.</summary>
    public IReadOnlyList<double> FeatureMeans => new ReadOnlyCollection<double>(_featureMeans);

    /// <summary>Per-feature scales (positive) that centred features are divided by.</summary>
    public IReadOnlyList<double> FeatureScales => new ReadOnlyCollection<double>(_featureScales);

    /// <summary>Mean of the training labels, added back to every prediction.</summary>
    public double LabelMean { get; }

    /// <summary>Scale (positive) of the training labels; predictions are made in units of it, then rescaled.</summary>
    public double LabelScale { get; }

    /// <summary>The chosen relative ridge λ̃: the kernel ridge regression used λ = λ̃·Tr(K)/n².</summary>
    public double RelativeRidge { get; }

    /// <summary>The absolute ridge λ = λ̃·Tr(K)/n² of the final kernel ridge regression.</summary>
    public double Ridge { get; }

    /// <summary>The training epoch whose network the model uses (0 is the network at initialisation).</summary>
    public int SelectedEpoch { get; }

    /// <summary>KARE objective and validation error after each epoch of training.</summary>
    public IReadOnlyList<KareEpochSummary> TrainingCurve => new ReadOnlyCollection<KareEpochSummary>(_trainingCurve);

    DataViewType IValueMapper.InputType => _inputType;

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The KARE model's input must be a vector of Single.");
        Host.Check(typeof(TOut) == typeof(float), "The KARE model's output is a Single.");

        int inputCount = Architecture.InputCount;
        PrimalScorer scorer = _scorer;
        float[]? dense = null;
        ValueMapper<VBuffer<float>, float> mapper = (in VBuffer<float> src, ref float dst) =>
        {
            Host.Check(src.Length == inputCount, "The feature vector has the wrong length for this KARE model.");
            Span<float> output = MemoryMarshal.CreateSpan(ref dst, 1);
            if (src.IsDense)
            {
                scorer.Score(src.GetValues(), output);
                return;
            }
            dense ??= new float[inputCount];
            Array.Clear(dense);
            ReadOnlySpan<float> values = src.GetValues();
            ReadOnlySpan<int> indices = src.GetIndices();
            for (int i = 0; i < values.Length; i++)
                dense[indices[i]] = values[i];
            scorer.Score(dense, output);
        };
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    private (PrimalScorer Scorer, VectorDataViewType InputType) CreateScorer()
    {
        var scorer = new PrimalScorer(Architecture, _parameters, _primalWeights, _featureMeans, _featureScales,
            new[] { LabelMean }, new[] { LabelScale });
        return (scorer, new VectorDataViewType(NumberDataViewType.Single, Architecture.InputCount));
    }

    /// <summary>Describes the first inconsistency among the model's values, or returns null when there is none.</summary>
    private static string? FindProblem(KareNetworkArchitecture? architecture, double[]? parameters, double[]? primalWeights,
        double[]? featureMeans, double[]? featureScales, double labelMean, double labelScale, double relativeRidge,
        double ridge, int selectedEpoch, KareEpochSummary[] trainingCurve)
    {
        if (architecture is null)
            return "The KARE model has no network architecture.";
        if (parameters is null || parameters.Length != architecture.ParameterCount)
            return $"The KARE model's network needs {architecture.ParameterCount} parameters, got {parameters?.Length ?? 0}.";
        if (primalWeights is null || primalWeights.Length != architecture.ParameterCount)
            return $"The KARE model needs {architecture.ParameterCount} primal weights, got {primalWeights?.Length ?? 0}.";
        if (featureMeans is null || featureMeans.Length != architecture.InputCount)
            return $"The KARE model needs {architecture.InputCount} feature means, got {featureMeans?.Length ?? 0}.";
        if (featureScales is null || featureScales.Length != architecture.InputCount)
            return $"The KARE model needs {architecture.InputCount} feature scales, got {featureScales?.Length ?? 0}.";
        int bad = FirstNonFinite(parameters);
        if (bad >= 0)
            return $"The KARE model's network parameter {bad} is not finite.";
        bad = FirstNonFinite(primalWeights);
        if (bad >= 0)
            return $"The KARE model's primal weight {bad} is not finite.";
        bad = FirstNonFinite(featureMeans);
        if (bad >= 0)
            return $"The KARE model's mean of feature {bad} is not finite.";
        for (int j = 0; j < featureScales.Length; j++)
        {
            if (!(featureScales[j] > 0 && double.IsFinite(featureScales[j])))
                return $"The KARE model's scale of feature {j} ({featureScales[j]}) is not a positive finite number.";
        }
        if (!double.IsFinite(labelMean))
            return "The KARE model's label mean is not finite.";
        if (!(labelScale > 0 && double.IsFinite(labelScale)))
            return $"The KARE model's label scale ({labelScale}) is not a positive finite number.";
        if (!(relativeRidge >= 0 && double.IsFinite(relativeRidge)))
            return $"The KARE model's relative ridge ({relativeRidge}) is not a non-negative finite number.";
        if (!(ridge >= 0 && double.IsFinite(ridge)))
            return $"The KARE model's ridge ({ridge}) is not a non-negative finite number.";
        if (selectedEpoch < 0)
            return $"The KARE model's selected epoch ({selectedEpoch}) is negative.";
        foreach (KareEpochSummary point in trainingCurve)
        {
            if (point.Epoch < 0)
                return $"The KARE model's training curve has a negative epoch ({point.Epoch}).";
        }
        return null;
    }

    private static int FirstNonFinite(double[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                return i;
        }
        return -1;
    }

    /// <summary>Bytes left in the reader's stream, or <see cref="long.MaxValue"/> when the stream cannot tell.</summary>
    private static long Remaining(BinaryReader reader)
        => reader.BaseStream.CanSeek ? reader.BaseStream.Length - reader.BaseStream.Position : long.MaxValue;

    private double[] ReadDoubles(BinaryReader reader, int count)
    {
        Host.CheckDecode(8L * count <= Remaining(reader), "The KARE model file ends early.");
        var values = new double[count];
        for (int i = 0; i < count; i++)
            values[i] = reader.ReadDouble();
        return values;
    }

    private static void WriteDoubles(BinaryWriter writer, double[] values)
    {
        foreach (double value in values)
            writer.Write(value);
    }

    private static void WriteVector(BinaryWriter writer, double[] values)
    {
        writer.Write((long)values.Length);
        WriteDoubles(writer, values);
    }

    private double[] LoadVector(ModelLoadContext ctx, string streamName, int expectedCount)
    {
        double[]? values = null;
        bool found = ctx.TryLoadBinaryStream(streamName, reader =>
        {
            long count = reader.ReadInt64();
            Host.CheckDecode(count == expectedCount,
                $"The KARE model's stream {streamName} holds {count} values; the network needs {expectedCount}.");
            values = ReadDoubles(reader, expectedCount);
        });
        Host.CheckDecode(found && values is not null, $"The KARE model file has no stream {streamName}.");
        return values!;
    }
}
