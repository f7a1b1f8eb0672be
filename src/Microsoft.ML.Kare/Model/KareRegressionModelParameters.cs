using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Onnx;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.ML;

// This is for deserialization from a model repository.
[assembly: LoadableClass(typeof(KareRegressionModelParameters), null, typeof(SignatureLoadModel),
    "KARE Regression Executor",
    KareRegressionModelParameters.LoaderSignature)]

namespace Microsoft.ML.Kare;

/// <summary>
/// Model parameters for <c>KareRegressionTrainer</c> (Microsoft.ML.Kare.Trainers): kernel ridge regression with the empirical neural tangent
/// kernel of a network whose kernel was trained with KARE, stored in primal form.
/// </summary>
/// <remarks>
/// The prediction for a row x is <c>LabelMean + LabelScale · ∇θ f(z; θ)ᵀ β</c>, with z = (c(x) − FeatureMeans) / FeatureScales (c compresses the skewed features, FeatureCompressionScales;
/// each z_j clipped to [InputLowerBounds_j, InputUpperBounds_j] when the model stores them),
/// f the network described by <see cref="KareModelParametersBase{TOutput}.Architecture"/> with parameters θ = <see cref="KareModelParametersBase{TOutput}.NetworkParameters"/>, and
/// β = <see cref="KareModelParametersBase{TOutput}.PrimalWeights"/>. It is one forward-mode Jacobian-vector product of the network, computed in plain
/// managed code: scoring a trained or loaded model needs neither the training data nor libtorch. Pipelines that end in
/// the model export to ONNX with ML.NET's converter (<c>mlContext.Model.ConvertToOnnx</c>, package
/// Microsoft.ML.OnnxConverter): Score and, with intervals, LowerBound and UpperBound, computed in float32.
/// </remarks>
public sealed class KareRegressionModelParameters : KareModelParametersBase<float>, IValueMapper, ISchemaBindableMapper,
    ISingleCanSaveOnnx, IBindableCanSaveOnnx
{
    internal const string LoaderSignature = "KareRegressionExec";
    internal const string RegistrationName = "KareRegressionPredictor";

    /// <summary>Name of the binary stream that holds θ.</summary>
    internal const string NetworkParametersStreamName = KarePrimalModel.NetworkParametersStreamName;

    /// <summary>Name of the binary stream that holds β.</summary>
    internal const string PrimalWeightsStreamName = KarePrimalModel.PrimalWeightsStreamName;

    private static VersionInfo GetVersionInfo()
    {
        return new VersionInfo(
            modelSignature: "KAREREGR",
            //verWrittenCur: 0x00010001, // Initial
            //verWrittenCur: 0x00010002, // Stores the method (KareMethod)
            //verWrittenCur: 0x00010003, // SHA-256 digests of the fields, θ and β (KarePrimalModel.IntegrityVersion)
            //verWrittenCur: 0x00010005, // The number of networks, and their θ and β (KarePrimalModel.MembersVersion; 0x00010004 unused)
            //verWrittenCur: IntervalVersion, // Prediction intervals (KarePredictionInterval)
            //verWrittenCur: KarePrimalModel.CompressionVersion, // The features' compression scales
            //verWrittenCur: KarePrimalModel.NormalScoresVersion, // The normal scores appended to the features
            verWrittenCur: KarePrimalModel.InputRangeVersion, // The training range the inputs are clipped to
            verReadableCur: KarePrimalModel.InputRangeVersion,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(KareRegressionModelParameters).Assembly.FullName);
    }

    /// <summary>The first version that stores prediction intervals.</summary>
    private const uint IntervalVersion = 0x00010006;

    /// <summary>Creates model parameters from a finished fit (one output).</summary>
    internal KareRegressionModelParameters(IHostEnvironment env, KareFitResult result)
        : base(env, RegistrationName, result, outputCount: 1)
    {
        string? problem = result.PredictionInterval?.FindProblem();
        Host.CheckParam(problem is null, nameof(result), "The prediction interval is invalid: " + problem);
        PredictionInterval = result.PredictionInterval;
    }

    private KareRegressionModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx, storeOutputCount: false)
    {
        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // (Base class) the one-output layout of KarePrimalModel (no output count): network, feature standardisation,
        // label mean and scale, ridges, selected epoch, training curve; streams NetworkParameters.bin (θ) and
        // PrimalWeights.bin (β).
        // from version 0x00010006 on: the prediction interval (KarePredictionInterval)
        if (ctx.Header.ModelVerWritten >= IntervalVersion)
            PredictionInterval = PredictionIntervalFile.Load(Host, ctx.Reader, "KARE");
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
        // The one-output layout of KarePrimalModel (see there).
        // The prediction interval (KarePredictionInterval), or its absence.
        Primal.Save(ctx, storeOutputCount: false);
        PredictionIntervalFile.Save(ctx.Writer, PredictionInterval);
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    /// <summary>Mean of the training labels, added back to every prediction.</summary>
    public double LabelMean => Primal.TargetMeans[0];

    /// <summary>Scale (positive) of the training labels; predictions are made in units of it, then rescaled.</summary>
    public double LabelScale => Primal.TargetScales[0];

    /// <summary>
    /// The calibration of the prediction intervals, or null when the model has none (trained with
    /// <c>PredictionIntervalCoverage</c> = 0, or saved before intervals existed). With intervals, scoring adds the
    /// columns <c>LowerBound</c> and <c>UpperBound</c>: Score ∓ <see cref="KarePredictionInterval.HalfWidth"/>.
    /// </summary>
    public KarePredictionInterval? PredictionInterval { get; }

    ISchemaBoundMapper ISchemaBindableMapper.Bind(IHostEnvironment env, RoleMappedSchema schema)
        => Scoring.PredictionIntervalMapper.Bind(this, this, env, schema, PredictionInterval);

    DataViewType IValueMapper.InputType => Primal.InputType;

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The KARE model's input must be a vector of Single.");
        Host.Check(typeof(TOut) == typeof(float), "The KARE model's output is a Single.");
        return (ValueMapper<TIn, TOut>)(Delegate)Primal.CreateScalarMapper(Host);
    }

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    /// <summary>The score alone: the model bound through ML.NET's predictor wrapper (a model without intervals).</summary>
    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        Primal.SaveAsOnnx(new OnnxGraph(ctx, "KARE regression"), featureColumn, ScoreColumnGraph.Score(outputNames));
        return true;
    }

    /// <summary>The model bound by itself (with intervals): Score, LowerBound and UpperBound.</summary>
    bool IBindableCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, RoleMappedSchema schema, string[] outputNames)
        => ScoreColumnGraph.RegressionColumns(ctx, schema, outputNames, "KARE regression", PredictionInterval,
            (graph, features, score) => Primal.SaveAsOnnx(graph, features, score));
}
