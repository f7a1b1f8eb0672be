using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Onnx;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML;

// This is for deserialization from a model repository.
[assembly: LoadableClass(typeof(KareBinaryModelParameters), null, typeof(SignatureLoadModel),
    "KARE Binary Classification Executor",
    KareBinaryModelParameters.LoaderSignature)]

namespace Microsoft.ML.Kare;

/// <summary>
/// Model parameters for <c>KareBinaryTrainer</c> (Microsoft.ML.Kare.Trainers): kernel ridge regression on ±1 targets with the empirical neural
/// tangent kernel of a network whose kernel was trained with KARE, stored in primal form. Its output is the
/// uncalibrated score (positive for the positive class); the trainer wraps it with a Platt calibrator for probabilities.
/// </summary>
/// <remarks>
/// The score for a row x is <c>m + s · ∇θ f(z; θ)ᵀ β</c>, with z = (c(x) − FeatureMeans) / FeatureScales (c compresses the skewed features, FeatureCompressionScales;
/// each z_j clipped to [InputLowerBounds_j, InputUpperBounds_j] when the model stores them), f the network
/// described by <see cref="KareModelParametersBase{TOutput}.Architecture"/>, θ = NetworkParameters, β = PrimalWeights,
/// and m, s the mean and scale of the ±1 training targets. It estimates E[y | x] for y = +1 (true) and −1 (false).
/// Scoring needs neither the training data nor libtorch. Pipelines that end in the model export to ONNX with ML.NET's
/// converter: the model writes the score (in float32), ML.NET's Platt calibrator the probability and its scorer the
/// predicted label.
/// </remarks>
public sealed class KareBinaryModelParameters : KareModelParametersBase<float>, IValueMapper, ISingleCanSaveOnnx
{
    internal const string LoaderSignature = "KareBinaryExec";
    internal const string RegistrationName = "KareBinaryPredictor";

    private static VersionInfo GetVersionInfo()
    {
        return new VersionInfo(
            modelSignature: "KAREBINC",
            //verWrittenCur: 0x00010001, // Initial
            //verWrittenCur: 0x00010002, // Stores the method (KareMethod)
            //verWrittenCur: 0x00010003, // SHA-256 digests of the fields, θ and β (KarePrimalModel.IntegrityVersion)
            //verWrittenCur: 0x00010005, // The number of networks, and their θ and β (KarePrimalModel.MembersVersion; 0x00010004 unused)
            //verWrittenCur: KarePrimalModel.CompressionVersion, // The features' compression scales (0x00010006 unused)
            //verWrittenCur: KarePrimalModel.NormalScoresVersion, // The normal scores appended to the features
            verWrittenCur: KarePrimalModel.InputRangeVersion, // The training range the inputs are clipped to
            verReadableCur: KarePrimalModel.InputRangeVersion,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(KareBinaryModelParameters).Assembly.FullName);
    }

    /// <summary>Creates model parameters from a finished fit on ±1 targets (one output).</summary>
    internal KareBinaryModelParameters(IHostEnvironment env, KareFitResult result)
        : base(env, RegistrationName, result, outputCount: 1)
    {
    }

    private KareBinaryModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx, storeOutputCount: false)
    {
        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // The one-output layout of KarePrimalModel, read by the base class.
    }

    internal static KareBinaryModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        return new KareBinaryModelParameters(env, ctx);
    }

    /// <inheritdoc/>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());

        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // The one-output layout of KarePrimalModel (see there).
        Primal.Save(ctx, storeOutputCount: false);
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.BinaryClassification;

    DataViewType IValueMapper.InputType => Primal.InputType;

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The KARE model's input must be a vector of Single.");
        Host.Check(typeof(TOut) == typeof(float), "The KARE model's output is a Single.");
        return (ValueMapper<TIn, TOut>)(Delegate)Primal.CreateScalarMapper(Host);
    }

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        Primal.SaveAsOnnx(new OnnxGraph(ctx, "KARE binary classification"), featureColumn, ScoreColumnGraph.Score(outputNames));
        return true;
    }
}
