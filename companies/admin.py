from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from companies.models import Attendance, Company, User


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "company", "role", "last_active", "is_staff"]
    list_filter = ["company", "role", "is_staff", "is_superuser"]
    readonly_fields = ["last_active"]
    fieldsets = BaseUserAdmin.fieldsets + (("Workspace", {"fields": ("company", "role", "last_active")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Workspace", {"fields": ("company", "role")}),)


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "check_in", "check_out"]
    list_filter = ["company"]
