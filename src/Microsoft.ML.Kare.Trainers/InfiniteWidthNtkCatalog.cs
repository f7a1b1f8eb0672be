using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// Extension methods that add the infinite-width neural tangent kernel trainer to <see cref="MLContext"/>'s regression
/// catalog.
/// </summary>
public static class InfiniteWidthNtkCatalog
{
    /// <summary>
    /// Create an <see cref="InfiniteWidthNtkRegressionTrainer"/>, which predicts a target with the analytic neural
    /// tangent kernel of an infinitely wide multilayer perceptron: kernel ridge regression (the network trained to
    /// convergence), or the network's prediction after gradient descent for a given time.
    /// </summary>
    /// <param name="catalog">The regression catalog trainer object.</param>
    /// <param name="labelColumnName">The name of the label column. The column data must be <see cref="System.Single"/> or <see cref="System.Double"/>.</param>
    /// <param name="featureColumnName">The name of the feature column. The column data must be a known-sized vector of <see cref="System.Single"/>.</param>
    /// <param name="exampleWeightColumnName">The name of the example weight column (optional). The column data must be <see cref="System.Single"/>.</param>
    /// <param name="activation">The nonlinearity of the network: <see cref="InfiniteWidthActivation.Relu"/> or <see cref="InfiniteWidthActivation.Erf"/>.</param>
    /// <param name="numberOfHiddenLayers">The number of hidden layers of the network (0 is a linear model).</param>
    /// <param name="trainingTime">
    /// The time t of gradient descent; <see cref="double.PositiveInfinity"/> (the default) is kernel ridge regression
    /// with the ridge chosen by generalised cross-validation.
    /// </param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Concatenate("Features", "X1", "X2", "X3")
    ///     .Append(mlContext.Regression.Trainers.InfiniteWidthNtk(labelColumnName: "Y", numberOfHiddenLayers: 2));
    /// var model = pipeline.Fit(trainingData);
    /// </code>
    /// </example>
    public static InfiniteWidthNtkRegressionTrainer InfiniteWidthNtk(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label,
        string featureColumnName = DefaultColumnNames.Features,
        string? exampleWeightColumnName = null,
        InfiniteWidthActivation activation = InfiniteWidthNtkRegressionTrainer.Defaults.Activation,
        int numberOfHiddenLayers = InfiniteWidthNtkRegressionTrainer.Defaults.NumberOfHiddenLayers,
        double trainingTime = InfiniteWidthNtkRegressionTrainer.Defaults.TrainingTime)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new InfiniteWidthNtkRegressionTrainer(env, labelColumnName, featureColumnName, exampleWeightColumnName,
            activation, numberOfHiddenLayers, trainingTime);
    }

    /// <summary>
    /// Create an <see cref="InfiniteWidthNtkRegressionTrainer"/> using advanced options, which predicts a target with
    /// the analytic neural tangent kernel of an infinitely wide multilayer perceptron.
    /// </summary>
    /// <param name="catalog">The regression catalog trainer object.</param>
    /// <param name="options">Trainer options. The trainer copies them: later changes do not affect it.</param>
    /// <returns>The trainer, to append to a pipeline or to fit.</returns>
    /// <example>
    /// <code>
    /// var options = new InfiniteWidthNtkRegressionTrainer.Options
    /// {
    ///     LabelColumnName = "Y",
    ///     Activation = InfiniteWidthActivation.Erf,
    ///     WeightStandardDeviation = 1.0,
    ///     NumberOfHiddenLayers = 3,
    ///     TrainingTime = 100,
    /// };
    /// var trainer = mlContext.Regression.Trainers.InfiniteWidthNtk(options);
    /// </code>
    /// </example>
    public static InfiniteWidthNtkRegressionTrainer InfiniteWidthNtk(this RegressionCatalog.RegressionTrainers catalog,
        InfiniteWidthNtkRegressionTrainer.Options options)
    {
        Contracts.CheckValue(catalog, nameof(catalog));
        Contracts.CheckValue(options, nameof(options));
        IHostEnvironment env = CatalogUtils.GetEnvironment(catalog);
        return new InfiniteWidthNtkRegressionTrainer(env, options);
    }
}
