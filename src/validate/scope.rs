//! Whether a kind is cluster-scoped or namespaced, for kinds that need no CRD to be known:
//! the built-in Kubernetes API (1.30 to 1.37, alpha and beta included) and Config Sync's own.

/// Where objects of a kind live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Cluster,
    Namespaced,
}

use Scope::{Cluster, Namespaced};

/// The scope of a built-in kind, `None` when the group/kind pair is not built in (a custom
/// resource, a typo, or a kind removed before 1.30).
///
/// The version is ignored on purpose: a kind keeps its scope across versions.
pub fn builtin_scope(group: &str, kind: &str) -> Option<Scope> {
    let scope = match (group, kind) {
        // core
        (
            "",
            "Pod"
            | "Service"
            | "ConfigMap"
            | "Secret"
            | "ServiceAccount"
            | "Endpoints"
            | "Event"
            | "LimitRange"
            | "PersistentVolumeClaim"
            | "ReplicationController"
            | "ResourceQuota"
            | "PodTemplate"
            | "Binding",
        ) => Namespaced,
        ("", "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus") => Cluster,

        (
            "apps",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ControllerRevision",
        ) => Namespaced,
        ("batch", "Job" | "CronJob") => Namespaced,
        ("autoscaling", "HorizontalPodAutoscaler") => Namespaced,
        ("policy", "PodDisruptionBudget" | "Eviction") => Namespaced,

        ("rbac.authorization.k8s.io", "Role" | "RoleBinding") => Namespaced,
        ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding") => Cluster,

        ("networking.k8s.io", "NetworkPolicy" | "Ingress") => Namespaced,
        ("networking.k8s.io", "IngressClass" | "IPAddress" | "ServiceCIDR") => Cluster,

        ("storage.k8s.io", "CSIStorageCapacity") => Namespaced,
        (
            "storage.k8s.io",
            "StorageClass" | "VolumeAttachment" | "CSIDriver" | "CSINode" | "VolumeAttributesClass",
        ) => Cluster,

        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding",
        ) => Cluster,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => Cluster,
        ("apiregistration.k8s.io", "APIService") => Cluster,

        ("scheduling.k8s.io", "PriorityClass") => Cluster,
        // Gang scheduling (alpha since 1.35).
        ("scheduling.k8s.io", "Workload") => Namespaced,
        ("node.k8s.io", "RuntimeClass") => Cluster,

        ("certificates.k8s.io", "CertificateSigningRequest" | "ClusterTrustBundle") => Cluster,
        ("certificates.k8s.io", "PodCertificateRequest") => Namespaced,
        ("coordination.k8s.io", "Lease" | "LeaseCandidate") => Namespaced,
        ("discovery.k8s.io", "EndpointSlice") => Namespaced,
        ("events.k8s.io", "Event") => Namespaced,
        ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration") => Cluster,

        // Dynamic resource allocation; ResourceClass, PodSchedulingContext and the
        // *Parameters kinds were alpha in 1.30 and 1.31 only.
        (
            "resource.k8s.io",
            "ResourceClaim"
            | "ResourceClaimTemplate"
            | "PodSchedulingContext"
            | "ResourceClaimParameters"
            | "ResourceClassParameters",
        ) => Namespaced,
        (
            "resource.k8s.io",
            "DeviceClass" | "ResourceSlice" | "DeviceTaintRule" | "ResourceClass",
        ) => Cluster,

        ("storagemigration.k8s.io", "StorageVersionMigration") => Cluster,
        ("internal.apiserver.k8s.io", "StorageVersion") => Cluster,

        // Review kinds are create-only, but they do have a scope.
        ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview") => Cluster,
        ("authentication.k8s.io", "TokenRequest") => Namespaced,
        (
            "authorization.k8s.io",
            "SubjectAccessReview" | "SelfSubjectAccessReview" | "SelfSubjectRulesReview",
        ) => Cluster,
        ("authorization.k8s.io", "LocalSubjectAccessReview") => Namespaced,

        // Config Sync.
        ("configsync.gke.io", "RootSync" | "RepoSync") => Namespaced,
        (
            "configmanagement.gke.io",
            "ClusterSelector" | "NamespaceSelector" | "HierarchyConfig" | "Repo",
        ) => Cluster,

        _ => return None,
    };
    Some(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_kinds() {
        assert_eq!(builtin_scope("", "Namespace"), Some(Cluster));
        assert_eq!(builtin_scope("", "ConfigMap"), Some(Namespaced));
        assert_eq!(builtin_scope("apps", "Deployment"), Some(Namespaced));
        assert_eq!(
            builtin_scope("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            Some(Cluster)
        );
        assert_eq!(
            builtin_scope("apiextensions.k8s.io", "CustomResourceDefinition"),
            Some(Cluster)
        );
        assert_eq!(
            builtin_scope("resource.k8s.io", "DeviceClass"),
            Some(Cluster)
        );
        assert_eq!(
            builtin_scope("configsync.gke.io", "RootSync"),
            Some(Namespaced)
        );
        assert_eq!(
            builtin_scope("configmanagement.gke.io", "ClusterSelector"),
            Some(Cluster)
        );
    }

    #[test]
    fn unknown_kinds() {
        assert_eq!(builtin_scope("", "Deployment"), None);
        assert_eq!(builtin_scope("apps", "Pod"), None);
        assert_eq!(builtin_scope("example.com", "Widget"), None);
        // Removed in 1.25.
        assert_eq!(builtin_scope("policy", "PodSecurityPolicy"), None);
    }
}
