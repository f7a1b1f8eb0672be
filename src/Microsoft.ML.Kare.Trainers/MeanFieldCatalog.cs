using Microsoft.ML.Data;
using Microsoft.ML.Kare.Training;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// Extension methods that add the mean-field two-timescale trainer (Takakura and Suzuki) to <see cref="MLContext"/>'s
/// regression catalog.
/// </summary>
public static class MeanFieldCatalog
{
    /// <summary>
    /// Create a <see cref="MeanFieldRegressionTrainer"/>, which predicts a target with a two-layer network in the
    /// mean-field scaling: its second layer is solved exactly by ridge regression at every step while its first layer
    /// moves by mean-field Langevin dynamics, so that the network learns a kernel adapted to the target.
    /// </summary>
    /// <param name="catalog">The regression catalog trainer object.</param>
    /// <param name="labelColumnName">The name of the label column. The column data must be <see cref="System.Single"/> or <see cref="System.Double"/>.</param>
    /// <param name="featureColumnName">The name of the feature column. The column data must be a known-sized vector of <see cref="System.Single"/>.</param>
    /// <param name="numberOfParticles">The number of particles m (hidden units) of the first layer.</param>
    /// <param name="numberOfSteps">The number of mean-field Langevin steps of the first layer.</param>
    /// <param name="stepSize">The step size η of the mean-field Langevin dynamics.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Concatenate("Features", "X1", "X2", "X3")
    ///     .Append(mlContext.Regression.Trainers.MeanFieldTwoTimescale(labelColumnName: "Y", numberOfSteps: 1000));
    /// var model = pipeline.Fit(trainingData);
    /// </code>
    /// </example>
    public static MeanFieldRegressionTrainer MeanFieldTwoTimescale(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        int numberOfParticles = MeanFieldRegressionTrainer.Defaults.NumberOfParticles,
        int numberOfSteps = MeanFieldRegressionTrainer.Defaults.NumberOfSteps,
        double stepSize = MeanFieldRegressionTrainer.Defaults.StepSize)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new MeanFieldRegressionTrainer(env, labelColumnName, featureColumnName, numberOfParticles, numberOfSteps, stepSize);
    }

    /// <summary>
    /// Create a <see cref="MeanFieldRegressionTrainer"/> using advanced options, which predicts a target with a two-layer
    /// network in the mean-field scaling: its second layer is solved exactly by ridge regression at every step while its
    /// first layer moves by mean-field Langevin dynamics.
    /// </summary>
    /// <param name="catalog">The regression catalog trainer object.</param>
    /// <param name="options">Trainer options. The trainer copies them: later changes do not affect it.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var options = new MeanFieldRegressionTrainer.Options
    /// {
    ///     LabelColumnName = "Y",
    ///     NumberOfParticles = 2000,
    ///     NumberOfSteps = 10000,
    ///     LabelNoise = 0.1,
    /// };
    /// var trainer = mlContext.Regression.Trainers.MeanFieldTwoTimescale(options);
    /// </code>
    /// </example>
    public static MeanFieldRegressionTrainer MeanFieldTwoTimescale(this RegressionCatalog.RegressionTrainers catalog,
        MeanFieldRegressionTrainer.Options options)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        Contracts.CheckValue(options, nameof(options));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new MeanFieldRegressionTrainer(env, options);
    }
}
