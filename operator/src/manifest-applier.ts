import { HttpMethod, type KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';

/**
 * Server-side apply of plain manifests, on the library's REST mapping (discovery) and request
 * pipeline (authentication, the operator's user agent and timeout).
 *
 * Not `KubernetesObjectApi.patch`: it serializes the object through the library's model of its
 * kind, which reads the model's property names, so a plain manifest's fields whose model name
 * differs are silently dropped (a NetworkPolicy rule's `from` is `_from` there; a schema's
 * `default`, `enum`, `x-kubernetes-*` likewise). The manifest is sent exactly as written instead.
 */
export class ManifestApplier extends KubernetesObjectApi {
  async apply(object: KubernetesObject, fieldManager: string, force: boolean): Promise<void> {
    const path = await this.specUriPath({ ...object, metadata: { ...object.metadata } }, 'patch');
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    context.setQueryParam('fieldManager', fieldManager);
    context.setQueryParam('force', String(force));
    context.setBody(JSON.stringify(object));
    await this.requestPromise(context);
  }
}
