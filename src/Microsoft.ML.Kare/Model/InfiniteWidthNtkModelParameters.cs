using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Onnx;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

// This is for deserialization from a model repository.
[assembly: LoadableClass(typeof(InfiniteWidthNtkModelParameters), null, typeof(SignatureLoadModel),
    "Infinite-Width NTK Regression Executor",
    InfiniteWidthNtkModelParameters.LoaderSignature)]

namespace Microsoft.ML.Kare;

/// <summary>
/// Model parameters for <c>InfiniteWidthNtkRegressionTrainer</c> (Microsoft.ML.Kare.Trainers): the mean prediction of an infinitely wide
/// multilayer perceptron trained by gradient descent on the mean squared error, with its analytic neural tangent
/// kernel Θ, stored in dual form (the standardised training inputs and one weight per training row).
/// </summary>
/// <remarks>
/// The prediction for a row x is <c>LabelMean + LabelScale · Σ_i Θ(z, z_i)·α_i</c>, with z = (x − FeatureMeans)/FeatureScales,
/// z_i the standardised training inputs (<see cref="TrainingInputs"/>) and α = <see cref="DualWeights"/>. Θ is the
/// closed-form kernel described by <see cref="Activation"/>, <see cref="NumberOfHiddenLayers"/>,
/// <see cref="WeightStandardDeviation"/> and <see cref="BiasStandardDeviation"/>. Scoring is plain managed code,
/// O(n·d) per row, and thread-safe; a row with a missing (NaN) or infinite feature scores NaN. Pipelines that end in
/// the model export to ONNX with ML.NET's converter: the graph holds the n training rows and computes the same kernel
/// recursion in float32 (Score and, with intervals, LowerBound and UpperBound).
/// </remarks>
public sealed class InfiniteWidthNtkModelParameters : ModelParametersBase<float>, IValueMapper, ISchemaBindableMapper,
    ISingleCanSaveOnnx, IBindableCanSaveOnnx
{
    internal const string LoaderSignature = "InfWidthNtkRegExec";
    internal const string RegistrationName = "InfiniteWidthNtkRegressionPredictor";

    /// <summary>Name of the binary stream that holds the standardised training inputs.</summary>
    internal const string TrainingInputsStreamName = "TrainingInputs.bin";

    /// <summary>Name of the binary stream that holds the dual weights α.</summary>
    internal const string DualWeightsStreamName = "DualWeights.bin";

    // Bounds that keep a corrupted file from asking for absurd allocations; the stream lengths bound them further.
    private const int MaximumFeatureCount = 1 << 24;
    private const int MaximumRowCount = 1 << 24;

    /// <summary>The first model version that stores a SHA-256 digest after the model's fields and after each stored vector.</summary>
    internal const uint IntegrityVersion = 0x00010002;

    /// <summary>The first model version that stores prediction intervals.</summary>
    private const uint IntervalVersion = 0x00010003;

    /// <summary>The model's name in messages (and in <see cref="ModelIntegrity"/>'s).</summary>
    private const string ModelName = "infinite-width NTK";

    private readonly State _state;

    private static VersionInfo GetVersionInfo()
    {
        return new VersionInfo(
            modelSignature: "IWNTKREG",
            //verWrittenCur: 0x00010001, // Initial
            //verWrittenCur: 0x00010002, // SHA-256 digests of the fields and of each stored vector
            verWrittenCur: IntervalVersion, // Prediction intervals (KarePredictionInterval)
            verReadableCur: IntervalVersion,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(InfiniteWidthNtkModelParameters).Assembly.FullName);
    }

    /// <summary>
    /// Creates model parameters from a finished fit; checks every value (<see cref="ArgumentOutOfRangeException"/>
    /// naming the problem). The arrays are kept, not copied.
    /// </summary>
    internal InfiniteWidthNtkModelParameters(IHostEnvironment env, InfiniteWidthActivation activation, int numberOfHiddenLayers,
        double weightStandardDeviation, double biasStandardDeviation, double[] featureMeans, double[] featureScales,
        double labelMean, double labelScale, double[] trainingInputs, double[] dualWeights,
        double trainingTime, double learningRate, double relativeRidge, double ridge, KarePredictionInterval? predictionInterval = null)
        : base(env, RegistrationName)
    {
        string? intervalProblem = predictionInterval?.FindProblem();
        Host.CheckParam(intervalProblem is null, nameof(predictionInterval), "The prediction interval is invalid: " + intervalProblem);
        PredictionInterval = predictionInterval;
        Host.CheckValue(featureMeans, nameof(featureMeans));
        Host.CheckValue(featureScales, nameof(featureScales));
        Host.CheckValue(trainingInputs, nameof(trainingInputs));
        Host.CheckValue(dualWeights, nameof(dualWeights));
        var state = new State(activation, numberOfHiddenLayers, weightStandardDeviation, biasStandardDeviation, featureMeans,
            featureScales, labelMean, labelScale, trainingInputs, dualWeights, trainingTime, learningRate, relativeRidge, ridge);
        string? problem = state.FindProblem();
        Host.CheckParam(problem is null, nameof(trainingInputs), problem);
        _state = state.Prepare();
    }

    private InfiniteWidthNtkModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx)
    {
        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // from version 0x00010002 on: long: byte count b of the fields below, from d through λ
        // int: number of input features d
        // int: number of training rows n
        // int: activation (InfiniteWidthActivation)
        // int: number of hidden layers L
        // double: weight standard deviation σ_w
        // double: bias standard deviation β
        // double[d]: feature means
        // double[d]: feature scales
        // double: label mean
        // double: label scale
        // double: training time t (+∞: kernel ridge regression)
        // double: learning rate η
        // double: relative ridge λ̃ (0 for a finite time)
        // double: ridge λ = λ̃·Tr Θ/n²
        // from version 0x00010002 on: byte[32]: SHA-256 of the b bytes from d through λ
        // Stream TrainingInputs.bin: long: n·d; double[n·d]: standardised training inputs, row-major;
        //     from 0x00010002 on: byte[32]: SHA-256 of the 8 + 8·n·d bytes before it
        // Stream DualWeights.bin: long: n; double[n]: α; from 0x00010002 on: byte[32]: SHA-256 of the 8 + 8·n bytes before it
        // The digests catch corruption that the zip container does not (ML.NET's loader does not verify the zip entries'
        // CRC-32): a damaged file fails with "The infinite-width NTK model file is corrupted" instead of loading as a
        // different model.
        // from version 0x00010003 on: the prediction interval (KarePredictionInterval)
        _state = State.Load(Host, ctx);
        if (ctx.Header.ModelVerWritten >= IntervalVersion)
            PredictionInterval = PredictionIntervalFile.Load(Host, ctx.Reader, ModelName);
    }

    internal static InfiniteWidthNtkModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        return new InfiniteWidthNtkModelParameters(env, ctx);
    }

    /// <inheritdoc/>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());

        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // from version 0x00010002 on: long: byte count b of the fields below, from d through λ
        // int: number of input features d
        // int: number of training rows n
        // int: activation (InfiniteWidthActivation)
        // int: number of hidden layers L
        // double: weight standard deviation σ_w
        // double: bias standard deviation β
        // double[d]: feature means
        // double[d]: feature scales
        // double: label mean
        // double: label scale
        // double: training time t (+∞: kernel ridge regression)
        // double: learning rate η
        // double: relative ridge λ̃ (0 for a finite time)
        // double: ridge λ = λ̃·Tr Θ/n²
        // from version 0x00010002 on: byte[32]: SHA-256 of the b bytes from d through λ
        // Stream TrainingInputs.bin: long: n·d; double[n·d]: standardised training inputs, row-major;
        //     from 0x00010002 on: byte[32]: SHA-256 of the 8 + 8·n·d bytes before it
        // Stream DualWeights.bin: long: n; double[n]: α; from 0x00010002 on: byte[32]: SHA-256 of the 8 + 8·n bytes before it
        // The digests catch corruption that the zip container does not (ML.NET's loader does not verify the zip entries'
        // CRC-32): a damaged file fails with "The infinite-width NTK model file is corrupted" instead of loading as a
        // different model.
        // The prediction interval (KarePredictionInterval), or its absence.
        _state.Save(ctx);
        PredictionIntervalFile.Save(ctx.Writer, PredictionInterval);
    }

    /// <summary>
    /// The calibration of the prediction intervals (exact leave-one-out residuals), or null when the model has none.
    /// With intervals, scoring adds the columns <c>LowerBound</c> and <c>UpperBound</c>.
    /// </summary>
    public KarePredictionInterval? PredictionInterval { get; }

    ISchemaBoundMapper ISchemaBindableMapper.Bind(IHostEnvironment env, RoleMappedSchema schema)
        => Scoring.PredictionIntervalMapper.Bind(this, this, env, schema, PredictionInterval);

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <summary>The nonlinearity of the infinitely wide network.</summary>
    public InfiniteWidthActivation Activation => _state.Activation;

    /// <summary>The number of hidden layers L of the infinitely wide network.</summary>
    public int NumberOfHiddenLayers => _state.NumberOfHiddenLayers;

    /// <summary>σ_w: each layer's weights are N(0, 1) scaled by σ_w/√(fan-in) (NTK parametrisation).</summary>
    public double WeightStandardDeviation => _state.WeightStandardDeviation;

    /// <summary>β: each layer's biases are N(0, 1) scaled by β.</summary>
    public double BiasStandardDeviation => _state.BiasStandardDeviation;

    /// <summary>Number of input features d.</summary>
    public int FeatureCount => _state.FeatureMeans.Length;

    /// <summary>Number of training rows n the prediction sums over.</summary>
    public int TrainingRowCount => _state.DualWeights.Length;

    /// <summary>Per-feature means subtracted before the kernel sees a row.</summary>
    public IReadOnlyList<double> FeatureMeans => new ReadOnlyCollection<double>(_state.FeatureMeans);

    /// <summary>Per-feature scales (positive) that centred features are divided by.</summary>
    public IReadOnlyList<double> FeatureScales => new ReadOnlyCollection<double>(_state.FeatureScales);

    /// <summary>Mean of the training labels, added back to every prediction.</summary>
    public double LabelMean => _state.LabelMean;

    /// <summary>Scale (positive) of the training labels; predictions are made in units of it, then rescaled.</summary>
    public double LabelScale => _state.LabelScale;

    /// <summary>The standardised training inputs, row-major n×d.</summary>
    public IReadOnlyList<double> TrainingInputs => new ReadOnlyCollection<double>(_state.TrainingInputs);

    /// <summary>
    /// The dual weights α (length n, standardised label units, example weights included): the prediction is
    /// LabelMean + LabelScale·Σ_i Θ(z, z_i)·α_i.
    /// </summary>
    public IReadOnlyList<double> DualWeights => new ReadOnlyCollection<double>(_state.DualWeights);

    /// <summary>The training time t of gradient descent; <see cref="double.PositiveInfinity"/> for kernel ridge regression.</summary>
    public double TrainingTime => _state.TrainingTime;

    /// <summary>The learning rate η of gradient descent (only its product with a finite <see cref="TrainingTime"/> matters).</summary>
    public double LearningRate => _state.LearningRate;

    /// <summary>The chosen relative ridge λ̃ (λ = λ̃·Tr Θ/n²); 0 for a finite training time, which uses no ridge.</summary>
    public double RelativeRidge => _state.RelativeRidge;

    /// <summary>The absolute ridge λ of the kernel ridge regression; 0 for a finite training time.</summary>
    public double Ridge => _state.Ridge;

    DataViewType IValueMapper.InputType => new VectorDataViewType(NumberDataViewType.Single, FeatureCount);

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The infinite-width NTK model's input must be a vector of Single.");
        Host.Check(typeof(TOut) == typeof(float), "The infinite-width NTK model's output is a Single.");
        State state = _state;
        IHost host = Host;
        ValueMapper<VBuffer<float>, float> mapper = (in VBuffer<float> src, ref float dst) =>
        {
            if (src.Length != state.FeatureMeans.Length)
                throw host.Except($"The feature vector has {src.Length} values, but this infinite-width NTK model was trained on {state.FeatureMeans.Length} features.");
            dst = (float)state.Score(in src);
        };
        return (ValueMapper<TIn, TOut>)(Delegate)mapper;
    }

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    /// <summary>The score alone: the model bound through ML.NET's predictor wrapper (a model without intervals).</summary>
    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        _state.SaveAsOnnx(new OnnxGraph(ctx, "infinite-width NTK regression"), featureColumn, ScoreColumnGraph.Score(outputNames));
        return true;
    }

    /// <summary>The model bound by itself (with intervals): Score, LowerBound and UpperBound.</summary>
    bool IBindableCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, RoleMappedSchema schema, string[] outputNames)
        => ScoreColumnGraph.RegressionColumns(ctx, schema, outputNames, "infinite-width NTK regression", PredictionInterval, _state.SaveAsOnnx);

    /// <summary>
    /// Everything the model holds, saves and loads, plus the kernel and the prepared training rows that scoring uses.
    /// Immutable after <see cref="Prepare"/>, so scoring is thread-safe.
    /// </summary>
    private sealed class State
    {
        public State(InfiniteWidthActivation activation, int numberOfHiddenLayers, double weightStandardDeviation,
            double biasStandardDeviation, double[] featureMeans, double[] featureScales, double labelMean, double labelScale,
            double[] trainingInputs, double[] dualWeights, double trainingTime, double learningRate, double relativeRidge, double ridge)
        {
            Activation = activation;
            NumberOfHiddenLayers = numberOfHiddenLayers;
            WeightStandardDeviation = weightStandardDeviation;
            BiasStandardDeviation = biasStandardDeviation;
            FeatureMeans = featureMeans;
            FeatureScales = featureScales;
            LabelMean = labelMean;
            LabelScale = labelScale;
            TrainingInputs = trainingInputs;
            DualWeights = dualWeights;
            TrainingTime = trainingTime;
            LearningRate = learningRate;
            RelativeRidge = relativeRidge;
            Ridge = ridge;
        }

        public InfiniteWidthActivation Activation { get; }
        public int NumberOfHiddenLayers { get; }
        public double WeightStandardDeviation { get; }
        public double BiasStandardDeviation { get; }
        public double[] FeatureMeans { get; }
        public double[] FeatureScales { get; }
        public double LabelMean { get; }
        public double LabelScale { get; }
        public double[] TrainingInputs { get; }
        public double[] DualWeights { get; }
        public double TrainingTime { get; }
        public double LearningRate { get; }
        public double RelativeRidge { get; }
        public double Ridge { get; }

        private InfiniteWidthNtk? _kernel;
        private InfiniteWidthNtk.PreparedRows? _basis;

        /// <summary>Builds the kernel and the training rows' variances (call once the values are checked); returns this.</summary>
        public State Prepare()
        {
            _kernel = new InfiniteWidthNtk(Activation, NumberOfHiddenLayers, WeightStandardDeviation, BiasStandardDeviation);
            _basis = _kernel.Prepare(TrainingInputs, DualWeights.Length, FeatureMeans.Length);
            return this;
        }

        /// <summary>LabelMean + LabelScale·Σ_i Θ(z, z_i)·α_i for z the standardised row; NaN for a non-finite feature.</summary>
        public double Score(in VBuffer<float> features)
        {
            int d = FeatureMeans.Length;
            // Per-call scratch (on the stack for usual sizes): a mapper may be called from several threads.
            Span<double> z = d <= 1024 ? stackalloc double[d] : new double[d];
            ReadOnlySpan<float> values = features.GetValues();
            if (features.IsDense)
            {
                for (int j = 0; j < d; j++)
                    z[j] = values[j];
            }
            else
            {
                z.Clear();
                ReadOnlySpan<int> indices = features.GetIndices();
                for (int k = 0; k < values.Length; k++)
                    z[indices[k]] = values[k];
            }
            for (int j = 0; j < d; j++)
            {
                if (!double.IsFinite(z[j]))
                    return double.NaN;
                z[j] = (z[j] - FeatureMeans[j]) / FeatureScales[j];
            }
            return LabelMean + LabelScale * _kernel!.WeightedSum(z, _basis!, DualWeights);
        }

        /// <summary>Adds the prediction of the rows <paramref name="features"/> to an ONNX graph (Onnx/InfiniteWidthNtkGraph.cs), written into <paramref name="output"/>.</summary>
        public void SaveAsOnnx(OnnxGraph graph, string features, string output)
            => InfiniteWidthNtkGraph.Predictions(graph, features, Activation, NumberOfHiddenLayers, WeightStandardDeviation, BiasStandardDeviation,
                FeatureMeans, FeatureScales, LabelMean, LabelScale, TrainingInputs, _basis!.Variances, DualWeights, output);

        /// <summary>Writes the current version of the binary format comment in <see cref="SaveCore"/>.</summary>
        public void Save(ModelSaveContext ctx)
        {
            ModelIntegrity.WriteFields(ctx.Writer, WriteFields);
            ctx.SaveBinaryStream(TrainingInputsStreamName, w => ModelIntegrity.WriteVector(w, TrainingInputs));
            ctx.SaveBinaryStream(DualWeightsStreamName, w => ModelIntegrity.WriteVector(w, DualWeights));
        }

        /// <summary>The fields of the main stream, from d through λ.</summary>
        private void WriteFields(BinaryWriter writer)
        {
            writer.Write(FeatureMeans.Length);
            writer.Write(DualWeights.Length);
            writer.Write((int)Activation);
            writer.Write(NumberOfHiddenLayers);
            writer.Write(WeightStandardDeviation);
            writer.Write(BiasStandardDeviation);
            ModelIntegrity.WriteDoubles(writer, FeatureMeans);
            ModelIntegrity.WriteDoubles(writer, FeatureScales);
            writer.Write(LabelMean);
            writer.Write(LabelScale);
            writer.Write(TrainingTime);
            writer.Write(LearningRate);
            writer.Write(RelativeRidge);
            writer.Write(Ridge);
        }

        /// <summary>
        /// Reads what <see cref="Save"/> wrote; from version 0x00010002 on, checks the fields and each vector against
        /// their SHA-256 digests before any value is used; checks every count against what the streams hold, then every value.
        /// </summary>
        public static State Load(IHost host, ModelLoadContext ctx)
        {
            bool hasDigests = ctx.Header.ModelVerWritten >= IntegrityVersion;
            BinaryReader reader = hasDigests ? ModelIntegrity.ReadFields(host, ctx.Reader, ModelName) : ctx.Reader;
            int featureCount = reader.ReadInt32();
            host.CheckDecode(featureCount > 0 && featureCount <= MaximumFeatureCount && 16L * featureCount <= ModelIntegrity.Remaining(reader),
                $"The infinite-width NTK model's number of input features ({featureCount}) is invalid or larger than the model file allows.");
            int rowCount = reader.ReadInt32();
            host.CheckDecode(rowCount > 0 && rowCount <= MaximumRowCount && (long)rowCount * featureCount <= Array.MaxLength,
                $"The infinite-width NTK model's number of training rows ({rowCount}) is invalid.");
            int activation = reader.ReadInt32();
            host.CheckDecode(Enum.IsDefined(typeof(InfiniteWidthActivation), activation),
                $"The infinite-width NTK model's activation ({activation}) is unknown.");
            int hiddenLayers = reader.ReadInt32();
            host.CheckDecode(hiddenLayers >= 0 && hiddenLayers <= InfiniteWidthNtk.MaximumHiddenLayerCount,
                $"The infinite-width NTK model's number of hidden layers ({hiddenLayers}) is not between 0 and {InfiniteWidthNtk.MaximumHiddenLayerCount}.");
            double weightStandardDeviation = reader.ReadDouble();
            double biasStandardDeviation = reader.ReadDouble();
            double[] featureMeans = ModelIntegrity.ReadDoubles(host, reader, featureCount, ModelName);
            double[] featureScales = ModelIntegrity.ReadDoubles(host, reader, featureCount, ModelName);
            double labelMean = reader.ReadDouble();
            double labelScale = reader.ReadDouble();
            double trainingTime = reader.ReadDouble();
            double learningRate = reader.ReadDouble();
            double relativeRidge = reader.ReadDouble();
            double ridge = reader.ReadDouble();
            if (hasDigests)
                ModelIntegrity.EndFields(host, reader, ModelName);
            double[] trainingInputs = ModelIntegrity.LoadVector(host, ctx, TrainingInputsStreamName, rowCount * featureCount, hasDigests,
                ModelName, $"{rowCount} training rows of {featureCount} features need");
            double[] dualWeights = ModelIntegrity.LoadVector(host, ctx, DualWeightsStreamName, rowCount, hasDigests,
                ModelName, $"{rowCount} training rows need");

            var state = new State((InfiniteWidthActivation)activation, hiddenLayers, weightStandardDeviation, biasStandardDeviation,
                featureMeans, featureScales, labelMean, labelScale, trainingInputs, dualWeights, trainingTime, learningRate, relativeRidge, ridge);
            string? problem = state.FindProblem();
            host.CheckDecode(problem is null, problem);
            return state.Prepare();
        }

        /// <summary>Describes the first inconsistency among the values, or returns null when there is none.</summary>
        public string? FindProblem()
        {
            if (!Enum.IsDefined(Activation))
                return $"The infinite-width NTK model's activation ({(int)Activation}) is unknown.";
            if (NumberOfHiddenLayers < 0 || NumberOfHiddenLayers > InfiniteWidthNtk.MaximumHiddenLayerCount)
                return $"The infinite-width NTK model's number of hidden layers ({NumberOfHiddenLayers}) is not between 0 and {InfiniteWidthNtk.MaximumHiddenLayerCount}.";
            if (!(WeightStandardDeviation > 0) || !double.IsFinite(WeightStandardDeviation))
                return $"The infinite-width NTK model's weight standard deviation ({WeightStandardDeviation}) is not a positive finite number.";
            if (!(BiasStandardDeviation >= 0) || !double.IsFinite(BiasStandardDeviation))
                return $"The infinite-width NTK model's bias standard deviation ({BiasStandardDeviation}) is not a non-negative finite number.";
            int d = FeatureMeans.Length;
            if (d < 1 || FeatureScales.Length != d)
                return $"The infinite-width NTK model needs a mean and a scale for each of at least one feature, got {FeatureMeans.Length} and {FeatureScales.Length}.";
            int n = DualWeights.Length;
            if (n < 1)
                return "The infinite-width NTK model has no training rows.";
            if (TrainingInputs.Length != (long)n * d)
                return $"The infinite-width NTK model needs {n}×{d} training inputs, got {TrainingInputs.Length}.";
            int bad = ModelIntegrity.FirstNonFinite(FeatureMeans);
            if (bad >= 0)
                return $"The infinite-width NTK model's mean of feature {bad} is not finite.";
            for (int j = 0; j < d; j++)
            {
                if (!(FeatureScales[j] > 0) || !double.IsFinite(FeatureScales[j]))
                    return $"The infinite-width NTK model's scale of feature {j} ({FeatureScales[j]}) is not a positive finite number.";
            }
            if (!double.IsFinite(LabelMean))
                return "The infinite-width NTK model's label mean is not finite.";
            if (!(LabelScale > 0) || !double.IsFinite(LabelScale))
                return $"The infinite-width NTK model's label scale ({LabelScale}) is not a positive finite number.";
            bad = ModelIntegrity.FirstNonFinite(TrainingInputs);
            if (bad >= 0)
                return $"The infinite-width NTK model's training input {bad} (row {bad / d}, feature {bad % d}) is not finite.";
            bad = ModelIntegrity.FirstNonFinite(DualWeights);
            if (bad >= 0)
                return $"The infinite-width NTK model's dual weight {bad} is not finite.";
            if (!(TrainingTime > 0))
                return $"The infinite-width NTK model's training time ({TrainingTime}) is not positive.";
            if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
                return $"The infinite-width NTK model's learning rate ({LearningRate}) is not a positive finite number.";
            if (!(RelativeRidge >= 0) || !double.IsFinite(RelativeRidge))
                return $"The infinite-width NTK model's relative ridge ({RelativeRidge}) is not a non-negative finite number.";
            if (!(Ridge >= 0) || !double.IsFinite(Ridge))
                return $"The infinite-width NTK model's ridge ({Ridge}) is not a non-negative finite number.";
            return null;
        }
    }
}
