using System.Runtime.CompilerServices;
using System;

// The library compiles against publicized copies of these assemblies (src/build/Publicize.targets); at run time the
// real assemblies are loaded, and this attribute tells the runtime to allow the access the compiler allowed.
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.DataView")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.StandardTrainers")]

namespace System.Runtime.CompilerServices
{
    /// <summary>
    /// Tells the runtime to skip visibility checks when this assembly accesses the named assembly's non-public types and
    /// members. The runtime recognises the attribute by name; the base class library does not define it.
    /// </summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        /// <summary>Creates the attribute for the assembly with the given simple name.</summary>
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

        /// <summary>Simple name of the assembly whose non-public members this assembly accesses.</summary>
        public string AssemblyName { get; }
    }
}
