import { HttpMethod, type KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';

type Action = 'create' | 'patch';

/**
 * Writes of plain manifests (server-side apply, create, merge patch), on the library's REST
 * mapping (discovery) and request pipeline (authentication, the operator's user agent and
 * timeout). Answers are read into the library's models, as its other calls do.
 *
 * Not `KubernetesObjectApi.patch`/`create`: they serialize the object through the library's model
 * of its kind, which reads the model's property names, so a plain manifest's fields whose model
 * name differs are silently dropped (a NetworkPolicy rule's `from` is `_from` there; a schema's
 * `default`, `enum`, `x-kubernetes-*` likewise). The manifest is sent exactly as written instead.
 */
export class ManifestApplier extends KubernetesObjectApi {
  /** Server-side apply of `object` as `fieldManager`. */
  apply<T extends KubernetesObject = KubernetesObject>(object: KubernetesObject, fieldManager: string, force: boolean): Promise<T> {
    return this.sendAsWritten(object, 'patch', PatchStrategy.ServerSideApply, { fieldManager, force: String(force) });
  }

  /** Creates `object`. */
  createAsWritten<T extends KubernetesObject = KubernetesObject>(object: KubernetesObject): Promise<T> {
    return this.sendAsWritten(object, 'create', 'application/json');
  }

  /** JSON merge patch (RFC 7386) of the object `patch` names (its apiVersion, kind and metadata). */
  mergePatchAsWritten<T extends KubernetesObject = KubernetesObject>(patch: KubernetesObject): Promise<T> {
    return this.sendAsWritten(patch, 'patch', PatchStrategy.MergePatch);
  }

  private async sendAsWritten<T extends KubernetesObject>(
    object: KubernetesObject,
    action: Action,
    contentType: string,
    query: Record<string, string> = {},
  ): Promise<T> {
    const path = await this.specUriPath({ ...object, metadata: { ...object.metadata } }, action);
    const context = this.configuration.baseServer.makeRequestContext(path, action === 'create' ? HttpMethod.POST : HttpMethod.PATCH);
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('Content-Type', contentType);
    for (const [key, value] of Object.entries(query)) context.setQueryParam(key, value);
    context.setBody(JSON.stringify(object));
    return this.requestPromise<T>(context);
  }
}
