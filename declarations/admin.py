from django.contrib import admin

from .models import Declaration, Demand, DemandGroup, Founder, Network


class DemandGroupInline(admin.StackedInline):
    model = DemandGroup
    extra = 0
    show_change_link = True


class FounderInline(admin.TabularInline):
    model = Founder
    extra = 0


class DemandInline(admin.StackedInline):
    model = Demand
    extra = 0


@admin.register(Declaration)
class DeclarationAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "is_current", "is_open", "moderation", "signature_count"]
    list_filter = ["is_open", "moderation"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["initiators"]
    readonly_fields = ["signature_count", "created_at", "updated_at"]
    inlines = [DemandGroupInline, FounderInline]


@admin.register(DemandGroup)
class DemandGroupAdmin(admin.ModelAdmin):
    list_display = ["__str__", "declaration", "position"]
    list_select_related = ["declaration"]
    inlines = [DemandInline]


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name", "position"]
    prepopulated_fields = {"slug": ["short_name"]}
