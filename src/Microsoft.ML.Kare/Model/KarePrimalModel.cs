using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Onnx;
using Microsoft.ML.Kare.Scoring;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Kare;

/// <summary>
/// The state every KARE model parameters type holds, saves and loads: a frozen network θ, the parameter-space kernel
/// ridge regression weights β for c outputs (docs/maths.md, "Primal form"), the standardisations, the chosen ridge and epoch, and the
/// training curve; plus the managed scorer built from them. No TorchSharp here: loading and scoring never need libtorch.
/// </summary>
internal sealed class KarePrimalModel
{
    /// <summary>Name of the binary stream that holds θ.</summary>
    public const string NetworkParametersStreamName = "NetworkParameters.bin";

    /// <summary>Name of the binary stream that holds β.</summary>
    public const string PrimalWeightsStreamName = "PrimalWeights.bin";

    /// <summary>The first model version that stores the method.</summary>
    private const uint MethodVersion = 0x00010002;

    /// <summary>
    /// The first model version that stores a SHA-256 digest after the model's fields and after each stored vector.
    /// The model parameters types' <c>GetVersionInfo</c> write this version.
    /// </summary>
    internal const uint IntegrityVersion = 0x00010003;

    /// <summary>
    /// The first model version that stores the number of networks (an ensemble of cross-validation folds) and the further
    /// networks' θ and β in streams of their own. Every KARE model parameters type writes it.
    /// </summary>
    internal const uint MembersVersion = 0x00010005;

    /// <summary>
    /// The first model version that stores the features' compression scales (<see cref="FeatureCompression"/>); older
    /// files compress no feature. Every KARE model parameters type writes it (0x00010006 is the regression model's
    /// prediction intervals).
    /// </summary>
    internal const uint CompressionVersion = 0x00010007;

    /// <summary>
    /// The first model version that stores the normal scores appended to the features (<see cref="Scoring.NormalScores"/>);
    /// older files append none. Every KARE model parameters type writes it.
    /// </summary>
    internal const uint NormalScoresVersion = 0x00010008;

    /// <summary>
    /// The first model version that stores the training range its inputs are clipped to (<see cref="Scoring.InputRange"/>);
    /// older files clip none. Every KARE model parameters type writes it.
    /// </summary>
    internal const uint InputRangeVersion = 0x00010009;

    /// <summary>A normal score has at most this many knots (a guard against corrupted counts).</summary>
    private const int MaximumKnotCount = 1 << 20;

    /// <summary>An ensemble has at most this many networks (a guard against corrupted counts).</summary>
    private const int MaximumMemberCount = 1024;

    /// <summary>The model's name in messages (and in <see cref="ModelIntegrity"/>'s).</summary>
    private const string ModelName = "KARE";

    // Bounds that keep a corrupted file from asking for absurd allocations; the stream length bounds them further.
    private const int MaximumInputCount = 1 << 24;
    private const int MaximumWidth = 1 << 24;
    private const int MaximumDepth = 1024;
    private const int MaximumOutputCount = 1 << 20;

    private KarePrimalModel(KareNetworkArchitecture architecture, KareModelMember[] members,
        double[] featureMeans, double[] featureScales, double[] featureCompressionScales, double[] targetMeans, double[] targetScales,
        double relativeRidge, double ridge, int selectedEpoch, KareEpochSummary[] trainingCurve, KareMethod method, NormalScores? normalScores,
        InputRange? inputRange)
    {
        Method = method;
        NormalScores = normalScores;
        InputRange = inputRange;
        Architecture = architecture;
        Members = members;
        FeatureMeans = featureMeans;
        FeatureScales = featureScales;
        FeatureCompressionScales = featureCompressionScales;
        TargetMeans = targetMeans;
        TargetScales = targetScales;
        RelativeRidge = relativeRidge;
        Ridge = ridge;
        SelectedEpoch = selectedEpoch;
        TrainingCurve = trainingCurve;
    }

    /// <summary>How the network was trained and how the model predicts.</summary>
    public KareMethod Method { get; }

    /// <summary>
    /// True when the prediction adds the network's own output f(z; θ) to ∇θ f(z; θ)ᵀ β: the methods that predict with the
    /// (linearised) network rather than by kernel ridge regression.
    /// </summary>
    public bool IncludesNetworkOutput => !Method.UsesKernelReadout();

    public KareNetworkArchitecture Architecture { get; }

    /// <summary>The networks whose predictions the model averages: one, or the k fold networks of a cross-validated ensemble.</summary>
    public KareModelMember[] Members { get; }

    /// <summary>θ of the first network, length P.</summary>
    public double[] Parameters => Members[0].Parameters;

    /// <summary>β of the first network, P × c (output k at [k·P, (k+1)·P)).</summary>
    public double[] PrimalWeights => Members[0].PrimalWeights;

    /// <summary>The normal scores appended to the features (the network's inputs beyond <see cref="FeatureCount"/>); null for none.</summary>
    public NormalScores? NormalScores { get; }

    /// <summary>The number of features d a row has: the network's inputs without the normal scores.</summary>
    public int FeatureCount => NormalScores?.FeatureCount ?? Architecture.InputCount;

    /// <summary>The training range each standardised network input is clipped to when scoring; null: none is clipped.</summary>
    public InputRange? InputRange { get; }

    /// <summary>Per network input: the mean subtracted after the compression (the d features, then the normal scores).</summary>
    public double[] FeatureMeans { get; }

    public double[] FeatureScales { get; }

    /// <summary>Per network input, the compression scale s applied before the standardisation (0: not compressed).</summary>
    public double[] FeatureCompressionScales { get; }

    /// <summary>Per-output mean and scale (length c).</summary>
    public double[] TargetMeans { get; }

    public double[] TargetScales { get; }

    public double RelativeRidge { get; }

    public double Ridge { get; }

    public int SelectedEpoch { get; }

    public KareEpochSummary[] TrainingCurve { get; }

    /// <summary>Number of outputs c.</summary>
    public int OutputCount => TargetMeans.Length;

    /// <summary>The managed scorer (created on first use, immutable): one network's, or the average of the members'.</summary>
    public IRowScorer Scorer => _scorer ??= Members.Length == 1
        ? CreateScorer(Members[0])
        : new AveragingScorer(Members.Select(CreateScorer).ToArray());

    private IRowScorer? _scorer;

    private PrimalScorer CreateScorer(KareModelMember member)
        => new(Architecture, member.Parameters, member.PrimalWeights, FeatureMeans, FeatureScales, TargetMeans, TargetScales, IncludesNetworkOutput,
            FeatureCompressionScales, NormalScores, InputRange);

    /// <summary>
    /// Adds the model's c outputs for the rows <paramref name="features"/> ([N, d] float) to an ONNX graph
    /// (Onnx/PrimalNetworkGraph.cs): [N, c] float, the values <see cref="Scorer"/> computes, in float32. Written into
    /// <paramref name="output"/> when that is given.
    /// </summary>
    public string SaveAsOnnx(OnnxGraph graph, string features, string? output = null)
        => PrimalNetworkGraph.Predictions(graph, features, Architecture, Members.Select(m => m.Parameters).ToArray(),
            Members.Select(m => m.PrimalWeights).ToArray(), FeatureMeans, FeatureScales, FeatureCompressionScales, NormalScores, InputRange, TargetMeans, TargetScales,
            IncludesNetworkOutput, output);

    /// <summary>The input type: a known-size vector of Single, one per feature.</summary>
    public VectorDataViewType InputType => new VectorDataViewType(NumberDataViewType.Single, FeatureCount);

    /// <summary>
    /// The model of a finished fit, checked for consistency (<see cref="ArgumentOutOfRangeException"/> naming the problem).
    /// </summary>
    public static KarePrimalModel FromFitResult(IHost host, KareFitResult result, int expectedOutputCount)
    {
        host.CheckValue(result, nameof(result));
        host.CheckParam(result.OutputCount == expectedOutputCount && result.TargetMeans?.Length == expectedOutputCount
            && result.TargetScales?.Length == expectedOutputCount, nameof(result),
            expectedOutputCount == 1 ? "A regression model has exactly one output." : $"The model must have {expectedOutputCount} outputs.");
        host.CheckValue(result.TrainingCurve, nameof(result.TrainingCurve));

        var trainingCurve = new KareEpochSummary[result.TrainingCurve.Count];
        for (int i = 0; i < trainingCurve.Length; i++)
            trainingCurve[i] = result.TrainingCurve[i];
        KareModelMember[] members = result.Members?.ToArray() ?? new[] { new KareModelMember(result.Parameters, result.PrimalWeights) };
        var model = new KarePrimalModel(result.Architecture, members, result.FeatureMeans,
            result.FeatureScales, result.FeatureCompressionScales ?? new double[result.Architecture.InputCount], result.TargetMeans!, result.TargetScales!, result.RelativeRidge, result.Ridge, result.SelectedEpoch, trainingCurve, result.Method,
            result.NormalScores, result.InputRange);
        string? problem = model.FindProblem();
        host.CheckParam(problem is null, nameof(result), problem);
        return model;
    }

    // *** Binary format *** (after the base class's int: sizeof(float))
    // from version 0x00010003 on: long: byte count b of the fields below, from d through the last field
    // int: number of input features d
    // int: number of hidden layers L
    // int[L]: hidden layer widths, input side first
    // int: activation (KareActivation)
    // double[d]: feature means
    // double[d]: feature scales
    // with a stored output count:    int: number of outputs c; double[c]: target means; double[c]: target scales
    // without (one output):          double: label mean; double: label scale
    // double: relative ridge λ̃
    // double: ridge λ
    // int: selected epoch
    // int: number of training curve points m
    // (int, double, double, double)[m]: training curve (epoch, KARE ρ, validation error, validation relative ridge)
    // from version 0x00010002 on: int: method (KareMethod); older files hold KARE models
    // from version 0x00010005 on: int: number of networks m (1, or the k fold networks of an ensemble); older files hold one
    // from version 0x00010007 on: double[d]: feature compression scales (0: not compressed); older files compress none
    // from version 0x00010008 on: int: number of normal scores m (the network's d inputs are the d − m features, then the
    //   m scores; the vectors of length d above are per input); per score: int: feature column; int: knot count K;
    //   double[K]: knots; double[K]: scores. Older files append none
    // from version 0x00010009 on: int: 1 when the inputs are clipped to their training range, else 0; when 1: double[d]:
    //   lower bounds; double[d]: upper bounds (standardised units, per input). Older files clip none
    // from version 0x00010003 on: byte[32]: SHA-256 of the b bytes from d through the last field above
    // Stream NetworkParameters.bin: long: P; double[P]: θ; from 0x00010003 on: byte[32]: SHA-256 of the 8 + 8·P bytes before it
    // Stream PrimalWeights.bin: long: P·c; double[P·c]: β; from 0x00010003 on: byte[32]: SHA-256 of the 8 + 8·P·c bytes before it
    // Streams NetworkParameters{j}.bin and PrimalWeights{j}.bin for j = 1 … m − 1: network j's θ and β, as above
    // The digests catch corruption that the zip container does not: ML.NET's loader does not verify the zip entries'
    // CRC-32, so without them a flipped byte inside θ or β loads silently as a different model.

    /// <summary>
    /// Writes the model in the format above. <paramref name="storeOutputCount"/> false writes the one-output layout of
    /// the regression model, which has no output count.
    /// </summary>
    public void Save(ModelSaveContext ctx, bool storeOutputCount)
    {
        Contracts.Check(storeOutputCount || OutputCount == 1, "Only a one-output model can omit its output count.");
        ModelIntegrity.WriteFields(ctx.Writer, writer => WriteFields(writer, storeOutputCount));
        for (int j = 0; j < Members.Length; j++)
        {
            KareModelMember member = Members[j];
            ctx.SaveBinaryStream(MemberStreamName(NetworkParametersStreamName, j), w => ModelIntegrity.WriteVector(w, member.Parameters));
            ctx.SaveBinaryStream(MemberStreamName(PrimalWeightsStreamName, j), w => ModelIntegrity.WriteVector(w, member.PrimalWeights));
        }
    }

    /// <summary>The fields of the main stream, from d through the method.</summary>
    private void WriteFields(BinaryWriter writer, bool storeOutputCount)
    {
        writer.Write(Architecture.InputCount);
        writer.Write(Architecture.Depth);
        foreach (int width in Architecture.HiddenWidths)
            writer.Write(width);
        writer.Write((int)Architecture.Activation);
        ModelIntegrity.WriteDoubles(writer, FeatureMeans);
        ModelIntegrity.WriteDoubles(writer, FeatureScales);
        if (storeOutputCount)
            writer.Write(OutputCount);
        ModelIntegrity.WriteDoubles(writer, TargetMeans);
        ModelIntegrity.WriteDoubles(writer, TargetScales);
        writer.Write(RelativeRidge);
        writer.Write(Ridge);
        writer.Write(SelectedEpoch);
        writer.Write(TrainingCurve.Length);
        foreach (KareEpochSummary point in TrainingCurve)
        {
            writer.Write(point.Epoch);
            writer.Write(point.Kare);
            writer.Write(point.ValidationError);
            writer.Write(point.ValidationRelativeRidge);
        }
        writer.Write((int)Method);
        writer.Write(Members.Length);
        ModelIntegrity.WriteDoubles(writer, FeatureCompressionScales);
        int scoreCount = NormalScores?.Columns.Length ?? 0;
        writer.Write(scoreCount);
        for (int k = 0; k < scoreCount; k++)
        {
            writer.Write(NormalScores!.Columns[k]);
            writer.Write(NormalScores.Knots[k].Length);
            ModelIntegrity.WriteDoubles(writer, NormalScores.Knots[k]);
            ModelIntegrity.WriteDoubles(writer, NormalScores.Scores[k]);
        }
        writer.Write(InputRange is null ? 0 : 1);
        if (InputRange is not null)
        {
            ModelIntegrity.WriteDoubles(writer, InputRange.Lower);
            ModelIntegrity.WriteDoubles(writer, InputRange.Upper);
        }
    }

    /// <summary>The stream of network <paramref name="member"/>: the base name for the first, "Name{j}.bin" for the others.</summary>
    private static string MemberStreamName(string name, int member)
        => member == 0 ? name : name.Replace(".bin", $"{member}.bin", StringComparison.Ordinal);

    /// <summary>
    /// Reads a model written by <see cref="Save"/> with the same <paramref name="storeOutputCount"/>; checks every value.
    /// Files written before version 0x00010002 do not store the method: they hold KARE models. From version 0x00010003
    /// on, the fields and each vector are checked against their SHA-256 digests before any value is used; a mismatch
    /// fails with "The KARE model file is corrupted". Every size read is checked against the bytes left in its
    /// stream before anything is allocated, so a damaged file fails with a <see cref="FormatException"/> naming the
    /// problem and never allocates more than the file's size justifies.
    /// </summary>
    public static KarePrimalModel Load(IHost host, ModelLoadContext ctx, bool storeOutputCount)
    {
        uint version = ctx.Header.ModelVerWritten;
        bool hasDigests = version >= IntegrityVersion;
        BinaryReader reader = hasDigests ? ModelIntegrity.ReadFields(host, ctx.Reader, ModelName) : ctx.Reader;

        int inputCount = reader.ReadInt32();
        host.CheckDecode(inputCount > 0 && inputCount <= MaximumInputCount && 16L * inputCount <= ModelIntegrity.Remaining(reader),
            $"The KARE model's number of input features ({inputCount}) is invalid or larger than the model file allows.");
        int depth = reader.ReadInt32();
        host.CheckDecode(depth > 0 && depth <= MaximumDepth && 4L * depth <= ModelIntegrity.Remaining(reader),
            $"The KARE model's number of hidden layers ({depth}) is invalid or larger than the model file allows.");
        var widths = new int[depth];
        for (int l = 0; l < depth; l++)
        {
            widths[l] = reader.ReadInt32();
            host.CheckDecode(widths[l] > 0 && widths[l] <= MaximumWidth, $"The KARE model's hidden layer {l} has an invalid width ({widths[l]}).");
        }
        int activation = reader.ReadInt32();
        host.CheckDecode(Enum.IsDefined(typeof(KareActivation), activation), $"The KARE model's activation ({activation}) is unknown.");
        var architecture = new KareNetworkArchitecture(inputCount, widths, (KareActivation)activation);

        double[] featureMeans = ModelIntegrity.ReadDoubles(host, reader, inputCount, ModelName);
        double[] featureScales = ModelIntegrity.ReadDoubles(host, reader, inputCount, ModelName);
        int outputCount = 1;
        if (storeOutputCount)
        {
            outputCount = reader.ReadInt32();
            host.CheckDecode(outputCount > 0 && outputCount <= MaximumOutputCount && 16L * outputCount <= ModelIntegrity.Remaining(reader),
                $"The KARE model's number of outputs ({outputCount}) is invalid or larger than the model file allows.");
        }
        double[] targetMeans = ModelIntegrity.ReadDoubles(host, reader, outputCount, ModelName);
        double[] targetScales = ModelIntegrity.ReadDoubles(host, reader, outputCount, ModelName);
        double relativeRidge = reader.ReadDouble();
        double ridge = reader.ReadDouble();
        int selectedEpoch = reader.ReadInt32();

        int curveCount = reader.ReadInt32();
        host.CheckDecode(curveCount >= 0 && 28L * curveCount <= ModelIntegrity.Remaining(reader),
            $"The KARE model's training curve length ({curveCount}) is invalid or larger than the model file allows.");
        var trainingCurve = new KareEpochSummary[curveCount];
        for (int i = 0; i < curveCount; i++)
            trainingCurve[i] = new KareEpochSummary(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
        var method = KareMethod.Kare;
        if (version >= MethodVersion)
        {
            host.CheckDecode(4 <= ModelIntegrity.Remaining(reader), "The KARE model file ends early.");
            int methodValue = reader.ReadInt32();
            host.CheckDecode(Enum.IsDefined(typeof(KareMethod), methodValue), $"The KARE model's method ({methodValue}) is unknown.");
            method = (KareMethod)methodValue;
        }
        int memberCount = 1;
        if (version >= MembersVersion)
        {
            host.CheckDecode(4 <= ModelIntegrity.Remaining(reader), "The KARE model file ends early.");
            memberCount = reader.ReadInt32();
            host.CheckDecode(memberCount >= 1 && memberCount <= MaximumMemberCount, $"The KARE model's number of networks ({memberCount}) is invalid.");
        }
        double[] compressionScales = version >= CompressionVersion
            ? ModelIntegrity.ReadDoubles(host, reader, inputCount, ModelName)
            : new double[inputCount];
        NormalScores? normalScores = version >= NormalScoresVersion ? ReadNormalScores(host, reader, inputCount) : null;
        InputRange? inputRange = version >= InputRangeVersion ? ReadInputRange(host, reader, inputCount) : null;
        if (hasDigests)
            ModelIntegrity.EndFields(host, reader, ModelName);

        long parameterCount = architecture.ParameterCount;
        host.CheckDecode(parameterCount <= Array.MaxLength / outputCount,
            $"The KARE model's network has {parameterCount} parameters and {outputCount} outputs, more than an array can hold.");
        var members = new KareModelMember[memberCount];
        for (int j = 0; j < memberCount; j++)
        {
            double[] parameters = ModelIntegrity.LoadVector(host, ctx, MemberStreamName(NetworkParametersStreamName, j), (int)parameterCount, hasDigests,
                ModelName, "the network needs");
            double[] primalWeights = ModelIntegrity.LoadVector(host, ctx, MemberStreamName(PrimalWeightsStreamName, j), (int)(parameterCount * outputCount), hasDigests,
                ModelName, "the network needs");
            members[j] = new KareModelMember(parameters, primalWeights);
        }

        var model = new KarePrimalModel(architecture, members, featureMeans, featureScales, compressionScales, targetMeans, targetScales,
            relativeRidge, ridge, selectedEpoch, trainingCurve, method, normalScores, inputRange);
        string? problem = model.FindProblem();
        host.CheckDecode(problem is null, problem);
        return model;
    }

    /// <summary>The input range of the format above (null when the inputs are not clipped).</summary>
    private static InputRange? ReadInputRange(IHost host, BinaryReader reader, int inputCount)
    {
        host.CheckDecode(4 <= ModelIntegrity.Remaining(reader), "The KARE model file ends early.");
        int stored = reader.ReadInt32();
        host.CheckDecode(stored is 0 or 1, $"The KARE model's input range flag ({stored}) is invalid.");
        if (stored == 0)
            return null;
        double[] lower = ModelIntegrity.ReadDoubles(host, reader, inputCount, ModelName);
        double[] upper = ModelIntegrity.ReadDoubles(host, reader, inputCount, ModelName);
        return new InputRange(lower, upper);
    }

    /// <summary>The normal scores of the format above (null when there are none), every size checked against the bytes left.</summary>
    private static NormalScores? ReadNormalScores(IHost host, BinaryReader reader, int inputCount)
    {
        host.CheckDecode(4 <= ModelIntegrity.Remaining(reader), "The KARE model file ends early.");
        int count = reader.ReadInt32();
        host.CheckDecode(count >= 0 && count < inputCount && 40L * count <= ModelIntegrity.Remaining(reader),
            $"The KARE model's number of normal scores ({count}) is invalid or larger than the model file allows.");
        if (count == 0)
            return null;
        var columns = new int[count];
        var knots = new double[count][];
        var scores = new double[count][];
        for (int k = 0; k < count; k++)
        {
            host.CheckDecode(8 <= ModelIntegrity.Remaining(reader), "The KARE model file ends early.");
            columns[k] = reader.ReadInt32();
            int knotCount = reader.ReadInt32();
            host.CheckDecode(knotCount >= 2 && knotCount <= MaximumKnotCount && 16L * knotCount <= ModelIntegrity.Remaining(reader),
                $"The KARE model's normal score {k} has an invalid number of knots ({knotCount}) or more than the model file allows.");
            knots[k] = ModelIntegrity.ReadDoubles(host, reader, knotCount, ModelName);
            scores[k] = ModelIntegrity.ReadDoubles(host, reader, knotCount, ModelName);
        }
        return new NormalScores(inputCount - count, columns, knots, scores);
    }

    /// <summary>
    /// A mapper from a feature vector to the one output of a one-output model. A row with a missing (NaN) or infinite
    /// feature scores NaN, as ML.NET's linear models score a row with a NaN feature. Each mapper owns a buffer for
    /// sparse rows: use one mapper per thread, as ML.NET does (one per cursor or prediction engine).
    /// </summary>
    public ValueMapper<VBuffer<float>, float> CreateScalarMapper(IHost host)
    {
        host.Check(OutputCount == 1, "The KARE model has more than one output.");
        var dense = new DenseInput(host, FeatureCount);
        IRowScorer scorer = Scorer;
        return (in VBuffer<float> src, ref float dst) =>
        {
            ReadOnlySpan<float> features = dense.Values(in src);
            if (AllFinite(src.GetValues()))
                scorer.Score(features, MemoryMarshal.CreateSpan(ref dst, 1));
            else
                dst = float.NaN;
        };
    }

    /// <summary>
    /// A mapper from a feature vector to the c outputs, then <paramref name="transform"/> applied to them in place
    /// (for example a softmax). A row with a missing (NaN) or infinite feature gives c NaN outputs (before the transform),
    /// as <see cref="CreateScalarMapper"/> does; one mapper per thread.
    /// </summary>
    public ValueMapper<VBuffer<float>, VBuffer<float>> CreateVectorMapper(IHost host, SpanAction? transform)
    {
        var dense = new DenseInput(host, FeatureCount);
        IRowScorer scorer = Scorer;
        int outputs = OutputCount;
        return (in VBuffer<float> src, ref VBuffer<float> dst) =>
        {
            var editor = VBufferEditor.Create(ref dst, outputs);
            ReadOnlySpan<float> features = dense.Values(in src);
            if (AllFinite(src.GetValues()))
                scorer.Score(features, editor.Values);
            else
                editor.Values.Fill(float.NaN);
            transform?.Invoke(editor.Values);
            dst = editor.Commit();
        };
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float value in values)
        {
            if (!float.IsFinite(value))
                return false;
        }
        return true;
    }

    /// <summary>Transforms the outputs of one row in place.</summary>
    public delegate void SpanAction(Span<float> values);

    /// <summary>Describes the first inconsistency among the model's values, or returns null when there is none.</summary>
    private string? FindProblem()
    {
        KareNetworkArchitecture? architecture = Architecture;
        if (architecture is null)
            return "The KARE model has no network architecture.";
        if (Members is null || Members.Length < 1)
            return "The KARE model has no network.";
        int outputs = TargetMeans?.Length ?? 0;
        if (outputs < 1 || TargetScales is null || TargetScales.Length != outputs)
            return "The KARE model needs a mean and a scale for each of at least one output.";
        for (int j = 0; j < Members.Length; j++)
        {
            string which = Members.Length == 1 ? "network" : $"network {j}";
            double[]? parameters = Members[j]?.Parameters, primalWeights = Members[j]?.PrimalWeights;
            if (parameters is null || parameters.Length != architecture.ParameterCount)
                return $"The KARE model's {which} needs {architecture.ParameterCount} parameters, got {parameters?.Length ?? 0}.";
            if (primalWeights is null || primalWeights.Length != architecture.ParameterCount * outputs)
                return $"The KARE model's {which} needs {architecture.ParameterCount * outputs} primal weights, got {primalWeights?.Length ?? 0}.";
            int bad = ModelIntegrity.FirstNonFinite(parameters);
            if (bad >= 0)
                return $"The KARE model's {which} parameter {bad} is not finite.";
            bad = ModelIntegrity.FirstNonFinite(primalWeights);
            if (bad >= 0)
                return $"The KARE model's {which} primal weight {bad} is not finite.";
        }
        if (FeatureMeans is null || FeatureMeans.Length != architecture.InputCount)
            return $"The KARE model needs {architecture.InputCount} feature means, got {FeatureMeans?.Length ?? 0}.";
        if (FeatureScales is null || FeatureScales.Length != architecture.InputCount)
            return $"The KARE model needs {architecture.InputCount} feature scales, got {FeatureScales?.Length ?? 0}.";
        if (FeatureCompressionScales is null)
            return "The KARE model has no feature compression scales.";
        if (FeatureCompression.FindProblem(FeatureCompressionScales, architecture.InputCount) is string compression)
            return $"The KARE model {compression}.";
        if (Scoring.NormalScores.FindProblem(NormalScores, architecture.InputCount) is string scores)
            return $"The KARE model {scores}.";
        if (Scoring.InputRange.FindProblem(InputRange, architecture.InputCount) is string range)
            return $"The KARE model {range}.";
        int badMean = ModelIntegrity.FirstNonFinite(FeatureMeans);
        if (badMean >= 0)
            return $"The KARE model's mean of feature {badMean} is not finite.";
        for (int j = 0; j < FeatureScales.Length; j++)
        {
            if (!(FeatureScales[j] > 0 && double.IsFinite(FeatureScales[j])))
                return $"The KARE model's scale of feature {j} ({FeatureScales[j]}) is not a positive finite number.";
        }
        for (int k = 0; k < outputs; k++)
        {
            string which = outputs == 1 ? "label" : $"output {k}";
            if (!double.IsFinite(TargetMeans![k]))
                return $"The KARE model's {which} mean is not finite.";
            if (!(TargetScales[k] > 0 && double.IsFinite(TargetScales[k])))
                return $"The KARE model's {which} scale ({TargetScales[k]}) is not a positive finite number.";
        }
        if (!(RelativeRidge >= 0 && double.IsFinite(RelativeRidge)))
            return $"The KARE model's relative ridge ({RelativeRidge}) is not a non-negative finite number.";
        if (!(Ridge >= 0 && double.IsFinite(Ridge)))
            return $"The KARE model's ridge ({Ridge}) is not a non-negative finite number.";
        if (SelectedEpoch < 0)
            return $"The KARE model's selected epoch ({SelectedEpoch}) is negative.";
        foreach (KareEpochSummary point in TrainingCurve)
        {
            if (point.Epoch < 0)
                return $"The KARE model's training curve has a negative epoch ({point.Epoch}).";
        }
        return null;
    }





    /// <summary>Hands a feature vector to the scorer as a dense span (sparse vectors go through a per-mapper buffer).</summary>
    private sealed class DenseInput(IHost host, int inputCount)
    {
        private float[]? _dense;

        public ReadOnlySpan<float> Values(in VBuffer<float> src)
        {
            if (src.Length != inputCount)
                throw host.Except($"The feature vector has {src.Length} values, but this KARE model was trained on {inputCount} features.");
            if (src.IsDense)
                return src.GetValues();
            _dense ??= new float[inputCount];
            Array.Clear(_dense);
            ReadOnlySpan<float> values = src.GetValues();
            ReadOnlySpan<int> indices = src.GetIndices();
            for (int i = 0; i < values.Length; i++)
                _dense[indices[i]] = values[i];
            return _dense;
        }
    }
}
